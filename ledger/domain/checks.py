"""The small checkers event schemas are made of (``ledger.domain.schemas`` holds the tables).

A checker is called with the value and its dotted path (``data.contacts[1].channel``) and raises
``ValidationError(path, what was wrong)``. Each also says in words what it accepts (:meth:`Check.describe`),
so that docs/events.md is generated from the very tables intake uses. An :class:`Obj` lists its fields; a
name ending in ``?`` is optional; any other field is refused.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from ledger.core.entries import instant_problem, parse_rfc3339
from ledger.domain.calendar import FIRST_YEAR, LAST_YEAR
from ledger.errors import ValidationError

Rule = Callable[[dict[str, Any], str], None]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGEST = re.compile(r"^(sha256|sha384|sha512|sm3):([0-9a-fA-F]+)$")
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128, "sm3": 64}


def parse_date(value: Any, path: str) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValidationError(path, f"{value!r} is not a date YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(path, f"{value!r} is not a valid calendar date") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(path, f"{value} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return day


class Check(ABC):
    """One checker: ``check(value, path)`` raises ValidationError; ``describe()`` says what it accepts."""

    what = "any value"

    @abstractmethod
    def __call__(self, value: Any, path: str) -> None:
        """Raise ValidationError naming ``path`` when ``value`` is not accepted."""

    def describe(self) -> str:
        return self.what


class Str(Check):
    def __init__(self, max_len: int = 256) -> None:
        self.max_len = max_len
        self.what = f"text, 1–{max_len} characters"

    def __call__(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise ValidationError(path, "must be a string")
        if not 1 <= len(value) <= self.max_len:
            raise ValidationError(path, f"must be 1 to {self.max_len} characters")
        if not value.replace("\n", " ").replace("\t", " ").isprintable():
            raise ValidationError(path, "must not contain control characters")


class Enum(Check):
    def __init__(self, *values: str) -> None:
        self.values = values
        self.what = "one of " + " | ".join(f"`{v}`" for v in values)

    def __call__(self, value: Any, path: str) -> None:
        if value not in self.values:
            raise ValidationError(path, f"{value!r} is not one of {', '.join(self.values)}")


class _Date(Check):
    what = "date `YYYY-MM-DD`"

    def __call__(self, value: Any, path: str) -> None:
        parse_date(value, path)


class _Time(Check):
    what = "RFC 3339 date-time with offset"

    def __call__(self, value: Any, path: str) -> None:
        problem = instant_problem(parse_rfc3339(value, path))
        if problem is not None:
            raise ValidationError(path, problem)


class _Bool(Check):
    what = "true or false"

    def __call__(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            raise ValidationError(path, "must be true or false")


class _Seq(Check):
    what = "a log seq (integer ≥ 0)"

    def __call__(self, value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(path, "must be a non-negative integer")


class Count(Check):
    def __init__(self, maximum: int | None = None) -> None:
        self.maximum = maximum
        self.what = "integer ≥ 1" if maximum is None else f"integer from 1 to {maximum}"

    def __call__(self, value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(path, "must be a positive integer")
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(path, f"must be at most {self.maximum}")


class _Digest(Check):
    what = "digest `sha256:<64 hex>` (or sha384, sha512, sm3)"

    def __call__(self, value: Any, path: str) -> None:
        m = _DIGEST.match(value) if isinstance(value, str) else None
        if not m or len(m.group(2)) != _DIGEST_HEX[m.group(1)]:
            raise ValidationError(path, f"{value!r} is not a digest like sha256:<64 hex digits>")


class _AnyObject(Check):
    what = "any JSON object"

    def __call__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise ValidationError(path, "must be a JSON object")


Date, Time, Bool, Seq, Digest, AnyObject = _Date(), _Time(), _Bool(), _Seq(), _Digest(), _AnyObject()


class OneOf(Check):
    def __init__(self, *checks: Check, what: str) -> None:
        self.checks = checks
        self.what = what

    def __call__(self, value: Any, path: str) -> None:
        for c in self.checks:
            try:
                c(value, path)
                return
            except ValidationError:
                continue
        raise ValidationError(path, f"must be {self.what}")


class ListOf(Check):
    def __init__(self, item: Check, *, min_len: int = 0, max_len: int = 100) -> None:
        self.item, self.min_len, self.max_len = item, min_len, max_len
        inner = "objects" if isinstance(item, Obj) else item.describe()
        self.what = f"list ({min_len}–{max_len}) of {inner}"

    def __call__(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise ValidationError(path, "must be a list")
        if not self.min_len <= len(value) <= self.max_len:
            raise ValidationError(path, f"must hold {self.min_len} to {self.max_len} items")
        for i, v in enumerate(value):
            self.item(v, f"{path}[{i}]")


class Obj(Check):
    """An object with exactly these fields (``name?`` optional) and an optional cross-field ``rule``."""

    what = "object"

    def __init__(self, fields: Mapping[str, Check], *, rule: Rule | None = None, note: str = "") -> None:
        self.fields = dict(fields)
        self.rule = rule
        self.note = note  # the cross-field rule in words, for the docs
        self.required = {k for k in fields if not k.endswith("?")}
        self.checks = {k.rstrip("?"): c for k, c in fields.items()}

    def __call__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise ValidationError(path, "must be a JSON object")
        for key in value:
            if key not in self.checks:
                raise ValidationError(f"{path}.{key}", f"unknown field (allowed: {', '.join(self.checks)})")
        for key in self.fields:
            name = key.rstrip("?")
            if name not in value:
                if key in self.required:
                    raise ValidationError(f"{path}.{name}", "is required")
                continue
            self.checks[name](value[name], f"{path}.{name}")
        if self.rule is not None:
            self.rule(value, path)
