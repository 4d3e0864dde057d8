"""Reading the reference sheet's Markdown: which lines belong to which part.

The coverage test uses this to map every formula line and note of the sheet to a
catalog entry; ``symml check`` (LaTeX-in) will use the same reader.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

PART_HEADING = re.compile(r"^##\s+\*\*.*PART\s+(\d+):\s*(.+?)\*\*\s*$")
END_HEADING = re.compile(r"^#\s+\*\*.*QUICK REFERENCE")
TITLE_LINE = re.compile(r"^\*\*[^*]+\*\*$")
# A section heading whose text is a bold title with a description (### **Entropy (uncertainty):**)
TITLED_HEADING = re.compile(r"^#{3,}\s+\*\*([^*]*\([^*]+\)[^*]*)\*\*$")


@dataclass(frozen=True)
class SheetLine:
    part: int
    number: int  # 1-based line number in the file
    text: str  # stripped
    in_code: bool


def default_sheet_path() -> Path:
    """``$SYMML_SHEET``, else ``../shared/sheet/ml-formula-sheet.md`` beside the checkout."""
    if os.environ.get("SYMML_SHEET"):
        return Path(os.environ["SYMML_SHEET"])
    root = Path(__file__).resolve().parents[2]
    return root.parent / "shared" / "sheet" / "ml-formula-sheet.md"


def sheet_lines(text: str, *, titles: bool = False) -> list[SheetLine]:
    """Every line of parts 1–14 that states something: code lines and note lines.

    With ``titles``, also the bold titles (``**Huber Loss (robust to outliers):**``) with
    the markup and the trailing colon removed: some state a property.
    """
    lines: list[SheetLine] = []
    part = 0
    in_code = False
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if END_HEADING.match(stripped):
            break
        heading = PART_HEADING.match(stripped)
        if heading:
            part = int(heading.group(1))
            continue
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if not part or not stripped:
            continue
        if not in_code and TITLE_LINE.match(stripped):
            if titles:
                lines.append(SheetLine(part, number, stripped.strip("*").rstrip(":"), False))
            continue
        titled = TITLED_HEADING.match(stripped) if not in_code else None
        if titled and titles:
            lines.append(SheetLine(part, number, titled.group(1).rstrip(":"), False))
        if not in_code and (stripped.startswith("#") or stripped == "---"):
            continue
        lines.append(SheetLine(part, number, stripped, in_code))
    return lines


def part_titles(text: str) -> dict[int, str]:
    titles = {}
    for raw in text.splitlines():
        heading = PART_HEADING.match(raw.strip())
        if heading:
            titles[int(heading.group(1))] = heading.group(2).strip()
    return titles
