"""The command line, driven through main()."""

import io
import json
import re

import pytest

from symml.cli.main import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_list_json_has_every_entry_with_the_schema_fields(catalog):
    code, text = run("list", "--json")
    assert code == 0
    rows = json.loads(text)
    assert len(rows) == len(catalog) >= 110
    assert set(rows[0]) == {"id", "part", "part_title", "name", "sheet_text", "expr", "claims"}


def test_list_filters_by_part():
    code, text = run("list", "--part", "12", "--json")
    assert code == 0
    assert {row["part"] for row in json.loads(text)} == {12}


def test_list_unknown_part_is_a_usage_error(capsys):
    code, _ = run("list", "--part", "15")
    assert code == 2
    assert "part 15" in capsys.readouterr().err


def test_show_sigmoid_prints_formula_symbols_and_the_sheets_derivative_claim():
    code, text = run("show", "activations.sigmoid")
    assert code == 0
    assert "σ(z) = 1 / (1 + e^(-z))" in text
    assert "sigmoid(z) = 1/(1 + exp(-z))" in text
    assert "z: scalar, real" in text
    assert "[derivative] σ'(z) = σ(z)(1 - σ(z))" in text
    assert "claimed: (1 - sigmoid(z))*sigmoid(z)" in text


def test_show_json_schema():
    code, text = run("show", "activations.sigmoid", "--json")
    data = json.loads(text)
    assert code == 0
    assert {"id", "part", "name", "sheet_text", "expr", "latex", "symbols", "claims"} <= set(data)
    assert (
        data["expr"]
        == "Pow(Add(Integer(1), exp(Mul(Integer(-1), Symbol('z', real=True)))), Integer(-1))"
    )
    derivative = data["claims"][0]
    assert derivative["kind"] == "derivative"
    assert derivative["sheet_text"] == "σ'(z) = σ(z)(1 - σ(z))"
    assert derivative["statement"]["wrt"]["text"] == "z"
    assert data["symbols"][0] == {
        "name": "z",
        "kind": "scalar",
        "domain": "real",
        "shape": [],
        "shape_text": "scalar",
        "meaning": "pre-activation (scalar)",
        "sheet_text": "",
        "typical": None,
        "distribution": None,
        "stands_for": None,
    }


def test_show_unknown_id_suggests_and_exits_2(capsys):
    code, _ = run("show", "sigmod")
    assert code == 2
    assert (
        capsys.readouterr().err
        == "symml: no formula 'sigmod'; did you mean 'activations.sigmoid'?\n"
    )


def test_bad_option_is_a_one_line_usage_error(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["list", "--bogus"])
    assert excinfo.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_verify_known_ids_exit_0_and_print_a_summary():
    code, text = run("verify", "activations.sigmoid", "activations.relu")
    assert code == 0
    assert re.search(r"^activations.relu#1 +derivative +conditional", text, re.M)
    assert "    ↳ holds only when z ≠ 0\n" in text
    assert (
        text.rstrip()
        .splitlines()[-1]
        .startswith("3 claims: 2 proved, 1 conditional; 0 not as expected")
    )


def test_verify_json_schema():
    code, text = run("verify", "optim.nesterov_step", "--json")
    data = json.loads(text)
    assert code == 0
    assert data["summary"]["refuted"] == 1
    verdict = data["verdicts"][0]
    assert verdict["status"] == "refuted" and verdict["as_expected"] is True
    assert set(verdict["counterexample"]) == {"point", "lhs", "rhs"}
    assert "grad_L" in verdict["counterexample"]["point"]


def test_verify_strict_fails_on_numeric():
    assert run("verify", "losses.huber")[0] == 0
    assert run("verify", "losses.huber", "--strict")[0] == 1


def test_verify_exit_1_on_a_new_discrepancy(catalog_dir):
    folder = catalog_dir(
        {
            "p01_mine.py": """
import sympy as sp
from symml.catalog.declare import Part
from symml.catalog.domains import real
from symml.catalog.model import Derivative
P = Part(1, "My notes")
P.section("mine")
z = P.scalar("z", real)
P.formula("mine.cube", "Cube", sheet="z³", expr=z**3,
          claims=[Derivative(sheet="(z³)' = 3z", wrt=z, claimed=3*z)])
"""
        }
    )
    code, text = run("--catalog", str(folder), "verify", "mine.cube")
    assert code == 1
    assert "refuted" in text and "[expected proved]" in text


def test_verify_bad_timeout_is_a_usage_error(capsys):
    assert run("verify", "activations.sigmoid", "--timeout", "-1")[0] == 2
    assert "--timeout -1: must be a positive number of seconds" in capsys.readouterr().err


def test_errata_lists_the_sheet_errors():
    code, text = run("verify", "optim.nesterov_step", "schedules.warmup", "--errata")
    assert code == 0
    assert "### `optim.nesterov_step#1`" in text
    assert (
        "- claimed: $v_{\\mathrm{mom}} \\leftarrow \\beta v_{\\mathrm{mom}} + \\nabla L\\left(W - "
        "\\beta v_{\\mathrm{mom}}\\right)$\n"
        "- true: $v_{\\mathrm{mom}} \\leftarrow \\beta v_{\\mathrm{mom}} + \\nabla L\\left(W - "
        "\\beta \\eta v_{\\mathrm{mom}}\\right)$\n"
    ) in text


def test_grad_readable_forms():
    assert run("grad", "activations.sigmoid")[1].startswith("∂/∂z: (1 - sigmoid(z))*sigmoid(z)")
    assert run("grad", "activations.tanh")[1].startswith("∂/∂z: 1 - tanh(z)**2")
    code, text = run("grad", "--expr", "1/(1+exp(-z))", "--wrt", "z")
    assert code == 0 and text.startswith("∂/∂z: (1 - sigmoid(z))*sigmoid(z)")


def test_grad_refuses_what_it_cannot_read(capsys):
    assert run("grad", "--expr", "__import__('os').system('true')", "--wrt", "z")[0] == 2
    assert "cannot read expression" in capsys.readouterr().err
    assert run("grad", "--expr", "log(1+", "--wrt", "z")[0] == 2
    assert run("grad", "activations.sigmoid", "--wrt", "q")[0] == 2
    assert "no variable 'q' to differentiate by; it has z" in capsys.readouterr().err


def test_the_command_exits_with_mains_code_after_freezing_the_collector():
    """``python -m symml`` (and the console script) run ``main``, then ``gc.freeze()`` so
    that shutdown skips a last walk of SymPy's caches; atexit handlers still run."""
    import subprocess
    import sys

    probe = (
        "import atexit, gc, runpy, sys\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "sys.argv = ['symml', 'show', 'no.such.formula']\n"
        "runpy.run_module('symml', run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stdout.strip().endswith("frozen at exit: True")
    assert "no formula 'no.such.formula'" in done.stderr
