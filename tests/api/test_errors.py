"""The one place errors become HTTP: every class of the error tree has its own row, in an order that works."""

from __future__ import annotations

import inspect

from api.errors import ERROR_MAP, classify
from ledger import errors
from ledger.errors import LedgerError


def tree() -> list[type[LedgerError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, LedgerError)]


def test_every_error_class_has_its_own_row() -> None:
    mapped = [cls for cls, _, _ in ERROR_MAP]
    assert sorted(c.__name__ for c in tree()) == sorted(c.__name__ for c in mapped)
    assert len(set(mapped)) == len(mapped)


def test_a_subclass_is_never_shadowed_by_its_base() -> None:
    for index, (cls, status, slug) in enumerate(ERROR_MAP):
        assert not any(issubclass(cls, earlier) for earlier, _, _ in ERROR_MAP[:index]), cls
        example = cls.__new__(cls)  # classify looks at the class only
        assert classify(example) == (status, slug)


def test_the_tree_in_the_docstring_names_every_class_with_its_status() -> None:
    doc = errors.__doc__ or ""
    for cls, status, _ in ERROR_MAP:
        line = next((ln for ln in doc.splitlines() if f" {cls.__name__} " in ln), "")
        assert f"[{status}]" in line, cls.__name__
