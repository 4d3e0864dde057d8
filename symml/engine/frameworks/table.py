"""The table of docs/frameworks.md: every ``matches`` claim with its measured verdict."""

from __future__ import annotations

from collections.abc import Sequence

from symml.catalog.loader import Catalog, load_catalog
from symml.catalog.model import Matches
from symml.engine.checking import check_claim
from symml.engine.verdict import Verdict

HEADER = (
    "| formula | framework function | verdict | largest difference | agrees when / note |",
    "|---|---|---|---|---|",
)


def rows(catalog: Catalog) -> list[tuple[str, str, str]]:
    """(formula id, framework function, expected verdict) of every matches claim, in order."""
    return [
        (f.id, c.reference, c.expected.value)
        for f in catalog
        for c in f.claims
        if isinstance(c, Matches)
    ]


def markdown(verdicts: Sequence[Verdict], catalog: Catalog) -> str:
    """The table for ``verdicts`` of the catalog's matches claims (run with ``--against``)."""
    by_claim = {v.claim: v for v in verdicts}
    lines = list(HEADER)
    for formula in catalog:
        for number, claim in enumerate(formula.claims, 1):
            if not isinstance(claim, Matches):
                continue
            verdict = by_claim.get(f"{formula.id}#{number}")
            if verdict is None:
                status, size, extra = "not run", "", ""
            else:
                status = verdict.status.value
                size = _largest(verdict.method)
                extra = "; ".join(verdict.conditions) or claim.difference or claim.note
                if status == "inconclusive":
                    size, extra = "", verdict.method
            lines.append(
                f"| `{formula.id}` | `{claim.reference}` | {status} | {size} | {_cell(extra)} |"
            )
    return "\n".join(lines) + "\n"


def _largest(method: str) -> str:
    marker = "largest difference "
    return method.split(marker, 1)[1] if marker in method else ""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


BEGIN, END = "<!-- frameworks-table:begin -->", "<!-- frameworks-table:end -->"


def rewrite(path: str, table: str) -> None:
    """Replace the generated table between the markers of the Markdown file at ``path``."""
    from pathlib import Path

    doc = Path(path)
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no {BEGIN} … {END} markers; add them where the table goes")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    doc.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m symml.engine.frameworks.table docs/frameworks.md``: run every matches claim
    against every framework installed and rewrite the table in that file."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        raise SystemExit("usage: python -m symml.engine.frameworks.table docs/frameworks.md")
    catalog = load_catalog()
    verdicts = [
        check_claim(formula, claim)
        for formula in catalog
        for claim in formula.claims
        if isinstance(claim, Matches)
    ]
    rewrite(args[0], markdown(verdicts, catalog))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
