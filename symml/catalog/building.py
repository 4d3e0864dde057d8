"""Executing a catalog file: the formulas it declares, each knowing its file.

``symml.catalog.loader`` calls this when an entry of a part not yet executed is asked for;
``symml.catalog.validation`` when a catalog version is first seen."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import sympy as sp

from symml.catalog.declare import Part
from symml.catalog.index import IndexEntry
from symml.catalog.model import Formula
from symml.errors import CatalogError


def with_source(formula: Formula, source: str) -> Formula:
    """The entry, marked with the catalog file it came from."""
    return replace(formula, source=source)


def load_file(path: Path) -> tuple[Formula, ...]:
    """The formulas one catalog file declares, each knowing its file (not validated)."""
    return tuple(with_source(f, path.name) for f in load_part(path).formulas)


def load_part(path: Path) -> Part:
    module_name = f"_symml_catalog_{abs(hash(str(path.resolve())))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CatalogError(path.name, "cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except CatalogError:
        raise
    except Exception as exc:  # a catalog file is user code: report it by file, in one line
        raise CatalogError(path.name, f"{type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)
    found = [v for v in vars(module).values() if isinstance(v, Part)]
    if len(found) != 1:
        raise CatalogError(
            path.name, f"defines {len(found)} Part objects; a catalog file defines one"
        )
    return found[0]


def index_entry(formula: Formula, file: str) -> IndexEntry:
    """What the catalog index keeps of an entry (``symml list`` shows it)."""
    return IndexEntry(
        id=formula.id,
        part=formula.part,
        part_title=formula.part_title,
        name=formula.name,
        sheet=formula.sheet,
        claims=len(formula.claims),
        expr=sp.srepr(formula.expr),
        file=file,
    )
