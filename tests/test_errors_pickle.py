"""Every error symml raises pickles as itself, fields and all (errors.SymmlError.__reduce__):
a worker's refusal reaches the caller unchanged, with no shipping code in between."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import pytest

import symml
from symml.errors import SymmlError


def _error_classes() -> list[type[SymmlError]]:
    for info in pkgutil.walk_packages(symml.__path__, "symml."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    found, todo = [], [SymmlError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted({c for c in found if c.__module__.startswith("symml")}, key=lambda c: c.__name__)


def _sample(cls: type[SymmlError]) -> SymmlError:
    if not any("__init__" in vars(c) for c in cls.__mro__ if issubclass(c, SymmlError)):
        return cls("a one-line message")
    values = {}
    for k, p in enumerate(list(inspect.signature(cls.__init__).parameters.values())[1:]):
        text = str(p.annotation)
        values[p.name] = 7 + k if "int" in text else 2.5 + k if "float" in text else f"v{k}"
    return cls(**values)


CLASSES = _error_classes()


def test_the_package_has_the_errors_the_policy_names():
    names = {c.__name__ for c in CLASSES}
    assert {"UnknownFormulaError", "NotKernelisable", "LatexParseError", "SizeError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_error_pickles_as_itself_with_its_fields(cls):
    error = _sample(cls)
    error.note_added_later = "kept"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_an_error_that_drops_an_argument_says_how_to_fix_it():
    class Forgetful(SymmlError, ValueError):
        def __init__(self, culprit: str) -> None:
            super().__init__(f"bad {culprit}")

    with pytest.raises(TypeError, match="does not keep its argument 'culprit' as a field"):
        pickle.dumps(Forgetful("x"))
