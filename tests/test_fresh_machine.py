"""What a new user meets first: the small things of the fresh-machine issue, exact messages."""

import importlib
import io
import struct

import pytest

import symml
from symml.cli import main as cli
from symml.cli import sheet as sheet_cli
from symml.render import sheet

# `symml.verify` is the function; the module of the same name is reached by its path.
verify_module = importlib.import_module("symml.engine.checking")


def run(monkeypatch, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(cli, "EXTENSIONS", ("symml.cli.sheet", "symml.cli.parse"))
    out = io.StringIO()
    return cli.main(list(argv), out=out), out.getvalue()


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"symml {symml.__version__}\n"


@pytest.mark.parametrize(
    "written, spelled",
    [("2z^2", "2*z**2"), ("3(x+1)^2 + 0.5y", "3*(x+1)**2 + 0.5*y")],
)
def test_grad_expression_written_as_on_paper_names_the_python_spelling(
    monkeypatch, capsys, written, spelled
):
    code, _ = run(monkeypatch, "grad", "--expr", written)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"symml: cannot read expression '{written}': syntax error")
    assert err.endswith(f"; write '{spelled}'\n")


def test_a_kernel_prints_as_a_short_summary():
    k = symml.kernel("losses.bce", grad="yhat_prob")
    assert repr(k) == (
        "Kernel('losses.bce d/dyhat_prob', grad='yhat_prob', args=('y_prob', 'yhat_prob'), "
        "outputs=('dyhat_prob',), backend='numpy')"
    )
    assert str(k) == repr(k)
    assert len(k.source) > 200  # the source is still there, on request


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plot_dpi_sets_the_resolution(monkeypatch, tmp_path):
    low, high = tmp_path / "low.png", tmp_path / "high.png"
    assert run(monkeypatch, "plot", "activations.gelu", "-o", str(low), "--dpi", "100")[0] == 0
    assert run(monkeypatch, "plot", "activations.gelu", "-o", str(high), "--dpi", "300")[0] == 0
    (w1, h1), (w3, h3) = _png_size(low), _png_size(high)
    assert (w3, h3) == (3 * w1, 3 * h1)


def test_plot_dpi_out_of_range_is_a_usage_error(monkeypatch, capsys, tmp_path):
    code, _ = run(
        monkeypatch, "plot", "activations.gelu", "-o", str(tmp_path / "g.png"), "--dpi", "0"
    )
    assert code == 2
    assert capsys.readouterr().err == "symml: --dpi 0: pick a resolution between 10 and 2400\n"
    assert not (tmp_path / "g.png").exists()


BACKPROP = r"\frac{\partial L}{\partial W} = \delta x^\top"


def test_parse_hint_names_the_transposed_symbol_and_keeps_the_backslashes(monkeypatch, capsys):
    code, _ = run(monkeypatch, "parse", BACKPROP)
    assert code == 2
    assert capsys.readouterr().err == (
        f"symml: cannot read '^\\top' at column 40 of '{BACKPROP}': a transpose of a scalar; "
        "declare it: --declare 'vector x n' or 'matrix x m n'\n"
    )


def test_parse_takes_declarations_separated_by_semicolons(monkeypatch):
    code, out = run(
        monkeypatch, "parse", "--declare", "matrix W m n; vector delta m; vector x n", BACKPROP
    )
    assert code == 0
    assert "expression: Eq(dL_dW, delta*x.T)" in out
    assert "x: MatrixSymbol shape (n, 1)" in out


def test_a_failed_pdf_build_leaves_nothing_behind(monkeypatch, capsys, tmp_path):
    if sheet.tex_engine() is None:
        pytest.skip("pdflatex missing: run .ci/install-tex.sh")

    def broken(tex_path, **_):
        (tex_path.parent / "half.aux").write_text("x")
        raise sheet.SheetError(f"pdflatex failed on {tex_path.name}: ! Undefined control sequence")

    monkeypatch.setattr(sheet, "compile_pdf", broken)
    target = tmp_path / "out" / "sheet.pdf"
    code, _ = run(monkeypatch, "sheet", "--no-verdicts", "--part", "1", "-o", str(target))
    assert code == 1
    assert not target.parent.exists() or list(target.parent.iterdir()) == []
    err = capsys.readouterr().err
    assert f"nothing was written to {target}" in err
    assert err.count("\n") == 1


def test_o_naming_a_pdf_builds_the_pdf(monkeypatch, tmp_path):
    if sheet.tex_engine() is None:
        pytest.skip("pdflatex missing: run .ci/install-tex.sh")
    target = tmp_path / "cheat.pdf"
    code, out = run(monkeypatch, "sheet", "--no-verdicts", "--part", "12", "-o", str(target))
    assert code == 0
    assert out == f"wrote {target}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cheat.pdf"]
    assert target.read_bytes().startswith(b"%PDF-")


def test_pdf_needs_latex_not_markdown(monkeypatch, capsys, tmp_path):
    code, _ = run(monkeypatch, "sheet", "--pdf", "--format", "md", "-o", str(tmp_path / "s.md"))
    assert code == 2
    assert "--pdf needs --format tex" in capsys.readouterr().err


def test_the_sheet_takes_its_verdicts_from_the_proof_cache(monkeypatch, capsys, tmp_path):
    seen: list = []
    real = verify_module.verify

    def spy(*args, **kwargs):
        verdicts = real(*args, **kwargs)
        seen.append(verdicts)
        return verdicts

    # the frameworks the sheet compares with by default, so that every verdict it shows has
    # been checked once (the test does not lean on what earlier tests left in the cache)
    against = ",".join(sheet_cli.SHEET_FRAMEWORKS)
    assert run(monkeypatch, "verify", "--part", "12", "--against", against)[0] == 0
    monkeypatch.setattr(verify_module, "verify", spy)
    code, _ = run(monkeypatch, "sheet", "--part", "12", "--no-plots", "-o", str(tmp_path / "s.md"))
    assert code == 0
    (verdicts,) = seen
    assert verdicts and all(v.cached for v in verdicts)
    assert f"[{len(verdicts)}/{len(verdicts)}]" in capsys.readouterr().err  # progress on stderr


def test_o_naming_a_folder_is_refused_before_any_work(monkeypatch, capsys, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    code, _ = run(monkeypatch, "sheet", "--no-verdicts", "-o", str(tmp_path))
    assert code == 2
    assert f"-o {tmp_path}: that is a directory" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"
