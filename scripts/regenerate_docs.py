"""Regenerate the generated documents: ``python3 scripts/regenerate_docs.py`` (from the repo root).

Writes docs/errata.md (``symml verify --errata --against jax,optax``), docs/sheet.pdf (``symml sheet --pdf --against jax,optax``) and
docs/sheet-page1.png, docs/sheet-page2.png (pages 1 and 2 at 100 dpi, ``pdftoppm -r 100``).
tests/test_docs.py checks that the first two are what the current code generates; rerun this
after any change to the catalog, the engine's verdicts or the rendering.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symml.cli import main as cli  # noqa: E402

DOCS = ROOT / "docs"


def main() -> int:
    errata = io.StringIO()
    # Against the frameworks of the test environment (tests/test_docs.py); torch is optional.
    code = cli.main(["verify", "--errata", "--against", "jax,optax"], errata)
    if code != 0:
        print(f"symml verify --errata exited with {code}; docs/errata.md not written")
        return code
    (DOCS / "errata.md").write_text(errata.getvalue(), encoding="utf-8")
    print("wrote docs/errata.md")
    # The sheet's framework marks: the same frameworks as the errata (torch is optional).
    sheet = ["sheet", "--pdf", "--against", "jax,optax", "-o", str(DOCS / "sheet.pdf")]
    if cli.main(sheet) != 0:
        return 1
    if shutil.which("pdftoppm") is None:
        print("pdftoppm missing (poppler-utils): the page renders were not updated")
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        prefix = Path(scratch) / "page"
        subprocess.run(
            ["pdftoppm", "-r", "100", "-f", "1", "-l", "2", "-png", DOCS / "sheet.pdf", prefix],
            check=True,
        )
        for number, page in enumerate(sorted(Path(scratch).glob("page-*.png")), 1):
            shutil.move(page, DOCS / f"sheet-page{number}.png")
            print(f"wrote docs/sheet-page{number}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
