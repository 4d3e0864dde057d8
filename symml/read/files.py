"""Reading a user's text file (notes, a declaration sidecar), refusing what is not one.

A directory, a missing or unreadable file, bytes that are not UTF-8, or a binary file (one
with NUL bytes, which no notes contain) is a ``UsageError`` naming the file, the problem and
the fix, never an ``OSError`` or ``UnicodeDecodeError`` from deep inside a reader.
"""

from __future__ import annotations

from pathlib import Path

from symml.errors import UsageError


def read_text(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of ``path`` (a ``what``: "notes", "declarations")."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"'{path}' is a directory, not a {what} file: pass the file inside it")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"'{path}': no such {what} file; check the path") from None
    except OSError as exc:
        problem = exc.strerror or type(exc).__name__
        raise UsageError(
            f"'{path}': cannot read it ({problem}); check its permissions or pass another file"
        ) from None
    if b"\x00" in data:
        raise UsageError(
            f"'{path}' is a binary file (it has NUL bytes at offset {data.index(0)}), not "
            f"{what} text: pass a UTF-8 .md or .tex file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"'{path}' is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save it as UTF-8 and check it again"
        ) from None
