"""The command line, driven through main()."""

import io
import json

import pytest

from symml.cli import main


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
