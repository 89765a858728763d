"""Obvious personal data in the fields a leaf keeps forever: ``subject``, ``event_id`` and ``source``.

Erasure drops an entry's ``data`` and ``salt`` but never its leaf (SPEC section 1), so an e-mail address, a
mobile number or an identity card number put in one of those fields can never be erased. Intake warns on
such obvious cases (the event is still recorded: refusing it would lose a fact, and a pattern can be wrong).
Pure: text in, warnings out.
"""

from __future__ import annotations

import re
from datetime import date

_EMAIL = re.compile(r"[^\s@/]+@[^\s@/]+\.[A-Za-z]{2,}")
# a PRC mobile number (11 digits from 13x to 19x), optionally +86 and separated by spaces or dashes,
# standing alone: not part of a longer run of digits such as a timestamp
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")
# a resident identity card number (GB 11643): 17 digits and a check character, standing alone
_RESIDENT_ID = re.compile(r"(?<![0-9])([0-9]{17})([0-9Xx])(?![0-9])")
# one cheap search that every ordinary identifier fails: intake runs it on every event it records
_SUSPECT = re.compile(r"@|1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}|[0-9]{17}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _resident_id(value: str) -> bool:
    """Whether ``value`` holds an 18-character identity card number with a valid birth date and check character."""
    for match in _RESIDENT_ID.finditer(value):
        body, check = match.group(1), match.group(2).upper()
        if _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11] != check:
            continue
        try:
            born = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
        except ValueError:
            continue
        if born.year >= 1900:
            return True
    return False


def _looks_like(value: str) -> str | None:
    if _SUSPECT.search(value) is None:
        return None
    if _EMAIL.search(value):
        return "an e-mail address"
    if _RESIDENT_ID.search(value) and _resident_id(value):
        return "a resident identity card number"
    if _MOBILE.search(value):
        return "a mobile number"
    return None


def personal_data_warnings(subject: str, event_id: str, source: str) -> list[str]:
    """One warning per field that obviously holds personal data; empty for ordinary identifiers."""
    out: list[str] = []
    if _SUSPECT.search(f"{subject}\n{event_id}\n{source}") is None:
        return out
    for field, value in (("subject", subject), ("event_id", event_id), ("source", source)):
        what = _looks_like(value)
        if what is not None:
            out.append(
                f"{field} looks like {what}; it is recorded, but {field} is part of the leaf and stays in the log "
                "forever, even after erasure: use a pseudonymous id (docs/erasure.md)"
            )
    return out
