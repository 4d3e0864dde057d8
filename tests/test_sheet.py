"""The cheat sheet: LaTeX/Markdown documents, the PDF build, figures, ``symml plot``."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from symml.catalog.model import Status
from symml.cli import main as cli
from symml.render import sheet

needs_tex = pytest.mark.skipif(
    sheet.tex_engine() is None or shutil.which("pdftotext") is None,
    reason="pdflatex/pdftotext missing: run .ci/install-tex.sh",
)


def run(monkeypatch, argv: list[str]) -> tuple[int, str]:
    monkeypatch.setattr(cli, "EXTENSIONS", ("symml.cli.sheet",))
    out = io.StringIO()
    return cli.main(argv, out), out.getvalue()


def test_escape_makes_user_names_safe():
    assert sheet.escape("A & B 50% x_1 #2 {a}") == r"A \& B 50\% x\_1 \#2 \{a\}"
    assert sheet.escape("σ′(z) ≤ 1") == r"\ensuremath{\sigma}'(z) \ensuremath{\leq} 1"
    assert sheet.escape("ŷ₁") == r"$\hat{y}$\ensuremath{_{1}}"
    assert sheet.escape("☃") == "?"


def test_untypesettable_formula_is_reported_and_the_rest_builds(catalog, capsys):
    formulas = catalog.part(12)
    bad = formulas[1].id

    def typeset(formula):
        if formula.id == bad:
            raise ValueError("printer exploded")
        return sheet.formula_line(formula).tex

    built = sheet.entries(formulas, typeset=typeset, with_gradients=False)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"symml sheet: {bad}: cannot be typeset (ValueError: printer exploded); left out"
    ]
    text = sheet.build_tex(catalog, built, sheet.SheetOptions(with_verdicts=False))
    assert r"(formula not typeset)" in text
    entries_part = text.split(r"\begin{document}")[1].split("Errata")[0]
    assert len(re.findall(r"\\formula(?:\[|\{)", entries_part)) == len(formulas) - 1
    assert r"\end{document}" in text


def test_user_catalog_names_are_escaped(catalog_dir, monkeypatch):
    folder = catalog_dir(
        {
            "p01_odd.py": (
                "import sympy as sp\n"
                "from symml.catalog.declare import Part\n"
                "P = Part(1, 'Odd & weird #1')\n"
                "P.section('odd')\n"
                "x = P.scalar('x')\n"
                "P.formula('odd.one', 'Fish & chips 100% {x_1} #1', sheet='x^2', expr=x**2)\n"
            )
        }
    )
    code, text = run(monkeypatch, ["--catalog", str(folder), "sheet", "--no-verdicts"])
    assert code == 0
    assert r"\entry{Fish \& chips 100\% \{x\_1\} \#1}{odd.one}" in text
    assert r"\partsection{1. Odd \& weird \#1}" in text
    assert r"\formula{x^{2}}" in text


def test_sheet_with_verdicts_marks_claims_and_witnesses(monkeypatch):
    code, text = run(monkeypatch, ["sheet", "--part", "1", "--no-plots"])
    assert code == 0
    assert r"\verdict{ForestGreen}{proved}" in text
    assert r"\verdict{orange}{conditional}" in text
    assert r"\verdict{violet}{ambiguous}" in text
    # ReLU'(0): the tag beside the derivative it judges, the missing condition typeset under it
    assert (
        "\\claim{\\verdict{orange}{conditional}}{\\operatorname{ReLU}'(z) = \\begin{cases} 1 & "
        "\\text{if } z > 0 \\\\ 0 & \\text{otherwise} \\end{cases}}\n"
        "\\witness{holds only when $z \\neq 0$}"
    ) in text
    assert r"\witness{holds only when $\alpha \leq 1$}" in text


def test_markdown_format(monkeypatch):
    code, text = run(monkeypatch, ["sheet", "--part", "12", "--format", "md", "--no-verdicts"])
    assert code == 0
    assert text.startswith("# ML formula sheet")
    assert "## 12. Learning rate schedules" in text or "## 12." in text
    assert "$$\n\\eta\\left(t\\right) = \\eta_{0} e^{- \\lambda t}\n$$" in text


def test_unknown_part_is_a_usage_error(monkeypatch, capsys):
    code, _ = run(monkeypatch, ["sheet", "--part", "99", "--no-verdicts"])
    assert code == 2
    assert "part 99" in capsys.readouterr().err


@pytest.fixture(scope="session")
def compiled(tmp_path_factory, catalog):
    """The whole catalog compiled once (no verdicts: they are tested above)."""
    if sheet.tex_engine() is None:
        pytest.skip("pdflatex missing: run .ci/install-tex.sh")
    folder = tmp_path_factory.mktemp("sheet")
    previous, cli.EXTENSIONS = cli.EXTENSIONS, ("symml.cli.sheet",)
    try:
        out = io.StringIO()
        code = cli.main(["sheet", "--no-verdicts", "--pdf", "-o", str(folder / "s.tex")], out)
    finally:
        cli.EXTENSIONS = previous  # later modules run the other commands
    assert code == 0, out.getvalue()
    return folder


@needs_tex
def test_pdf_compiles_cleanly(compiled):
    log = (compiled / "s.log").read_text(errors="replace")
    assert sheet.log_problems(log) == []
    assert (compiled / "s.pdf").stat().st_size > 50_000


@needs_tex
def test_pdf_text_has_every_part_and_formula_names(compiled, catalog):
    text = subprocess.run(
        ["pdftotext", "-layout", str(compiled / "s.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(text.split())
    for number, title in catalog.parts:
        assert f"{number}. {title}" in flat, title
    for name in ("Sigmoid", "Binary cross-entropy", "Scaled dot-product attention", "Errata"):
        assert name in flat


@needs_tex
def test_pdf_includes_the_figures(compiled):
    figures = sorted(p.name for p in (compiled / "s-figures").iterdir())
    assert figures == [
        "activations.pdf",
        "classification-losses.pdf",
        "regression-losses.pdf",
        "schedules.pdf",
        "softmax-temperature.pdf",
    ]
    tex = (compiled / "s.tex").read_text()
    assert r"\includegraphics[width=\linewidth]{s-figures/activations.pdf}" in tex


def test_plot_writes_a_figure(monkeypatch, tmp_path):
    target = tmp_path / "gelu.svg"
    code, out = run(monkeypatch, ["plot", "activations.gelu", "-o", str(target)])
    assert code == 0
    assert out == f"wrote {target}\n"
    assert "<svg" in target.read_text()


def test_plot_refuses_a_matrix_formula_in_one_line(monkeypatch, capsys, tmp_path):
    code, _ = run(monkeypatch, ["plot", "losses.mse", "-o", str(tmp_path / "x.png")])
    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        "symml: formula 'losses.mse' cannot be plotted: it sums over an indexed family or has "
        "random symbols; `symml plot` draws scalar formulas of one variable\n"
    )


def test_status_marks_cover_every_status():
    assert set(sheet._MARK) == set(Status)


def test_plot_draws_a_step_schedule_with_its_derivative_zero_between_jumps(monkeypatch, tmp_path):
    # sp.diff(floor(u)) has no NumPy form: the plot failed with an internal error.
    target = tmp_path / "step.png"
    code, out = run(monkeypatch, ["plot", "schedules.step", "-o", str(target)])
    assert code == 0 and target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["losses.bce", "--var", "y_prob"],
            "symml: formula 'losses.bce' cannot be plotted: yhat_prob has no typical value to "
            "hold it at while 'y_prob' varies; `symml plot` draws scalar formulas of one variable\n",
        ),
        (
            ["metrics.f1", "--var", "Prec"],
            "symml: formula 'metrics.f1' cannot be plotted: Rec has no typical value to hold it "
            "at while 'Prec' varies; `symml plot` draws scalar formulas of one variable\n",
        ),
    ],
)
def test_plot_with_var_says_which_variable_has_no_value(
    monkeypatch, capsys, tmp_path, args, message
):
    # The other variables were left symbolic: an internal TypeError from NumPy.
    code, _ = run(monkeypatch, ["plot", *args, "-o", str(tmp_path / "x.png")])
    assert code == 2
    assert capsys.readouterr().err == message


def test_plot_to_an_unwritable_path_says_so(monkeypatch, capsys, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    target = blocked / "x.png"  # a directory that is a file
    code, _ = run(monkeypatch, ["plot", "activations.gelu", "-o", str(target)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"symml: cannot write {target}: File exists ({blocked}); pick a writable path\n"
    )


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["latex", "activations.gelu"], "\\operatorname{GELU}(z) = z \\Phi\\left(z\\right)\n"),
        (
            ["latex", "activations.sigmoid", "--grad", "z"],
            "\\frac{\\partial \\sigma\\left(z\\right)}{\\partial z} = "
            "\\sigma\\left(z\\right) \\left(1 - \\sigma\\left(z\\right)\\right)\n",
        ),
        (["latex", "optim.sgd"], "W \\leftarrow W - \\eta g\n"),
    ],
)
def test_latex_command_prints_one_formula(monkeypatch, argv, expected):
    monkeypatch.setattr(cli, "EXTENSIONS", ("symml.cli.latex",))
    out = io.StringIO()
    assert cli.main(argv, out) == 0
    assert out.getvalue() == expected


def test_latex_command_names_a_missing_variable(monkeypatch, capsys):
    monkeypatch.setattr(cli, "EXTENSIONS", ("symml.cli.latex",))
    assert cli.main(["latex", "activations.gelu", "--grad", "q"], io.StringIO()) == 2
    assert capsys.readouterr().err == (
        "symml: --grad q: 'activations.gelu' has no symbol 'q'; pick one of z, t\n"
    )


def test_sheet_dpi_draws_png_figures_at_that_resolution(monkeypatch, tmp_path):
    target = tmp_path / "s.md"
    code, _ = run(
        monkeypatch,
        ["sheet", "--part", "12", "--no-verdicts", "--dpi", "200", "-o", str(target)],
    )
    assert code == 0
    png = (tmp_path / "s-figures" / "schedules.png").read_bytes()
    width = int.from_bytes(png[16:20], "big")
    assert width == 680  # 3.4 in at 200 dpi
    assert "![schedules](s-figures/schedules.png)" in target.read_text()


def test_sheet_dpi_out_of_range_is_a_usage_error(monkeypatch, capsys):
    code, _ = run(monkeypatch, ["sheet", "--no-verdicts", "--dpi", "5"])
    assert code == 2
    assert "--dpi 5: pick a resolution between 10 and 2400" in capsys.readouterr().err


# -- framework marks: the matches verdicts under each formula ----------------------------------
def test_sheet_marks_each_formula_with_the_framework_functions_it_agrees_with_or_not(monkeypatch):
    pytest.importorskip("optax", reason="the marks are measured against optax")
    from symml.engine.frameworks import available

    against = "optax,torch" if not available.unavailable("torch") else "optax"
    code, text = run(monkeypatch, ["sheet", "--part", "4", "--no-plots", "--against", against])
    assert code == 0
    note = "Under a formula: the functions of " + against.replace(",", ", ")
    assert note in text
    assert r"\frameworks{= optax.rmsprop" in text
    if "torch" in against:  # the ε placement, said in words (pdflatex's ≠ extracts as "=")
        assert (
            r"\frameworks{= optax.rmsprop \ensuremath{\cdot} differs from torch.optim.RMSprop "
            r"(\ensuremath{\epsilon} placement)}" in text
        )
    code, markdown = run(
        monkeypatch, ["sheet", "--part", "4", "--format", "md", "--against", against]
    )
    assert code == 0
    if "torch" in against:
        assert "= optax.rmsprop  ·  ≠ torch.optim.RMSprop (ε placement)\n" in markdown


def test_sheet_without_torch_leaves_its_marks_out_and_says_so(monkeypatch):
    pytest.importorskip("optax", reason="the marks are measured against optax")
    from symml.engine.frameworks import available

    available.unavailable.cache_clear()
    real = available.importlib.util.find_spec
    monkeypatch.setattr(
        available.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real(name, *a),
    )
    try:
        code, text = run(
            monkeypatch, ["sheet", "--part", "4", "--format", "md", "--against", "all"]
        )
    finally:
        available.unavailable.cache_clear()
    assert code == 0
    assert "no marks for torch: not installed here" in text
    assert "= optax.adam\n" in text and "torch.optim" not in text
