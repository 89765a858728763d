"""The witness policy: which witnesses cosign the log's checkpoints, and how many must (SPEC section 7).

Its own file, given with ``hrledger serve --witnesses FILE``, rather than a table of the company policy:
the company policy is evidence (its digest is in every escalation entry), while witnesses are the log's
operation, changed when a witness is added or retired without any bearing on a case::

    quorum = 2                          # cosignatures a checkpoint needs to count as witnessed (default: all)
    timeout_seconds = 10                # per request (default 10)
    min_interval_seconds = 0.25         # at most one submission per witness this often (default 0.25)

    [[witness]]
    vkey = "lawfirm.example/witness+5aa37450+BEqv/rIBhKYK9wMm3GH9zS3YPgDaP3b81dhriKyDARkn"
    url = "https://witness.lawfirm.example"   # its submission prefix: POST <url>/add-checkpoint

    [[witness]]
    vkey = "union.example/witness+..."
    url = "https://witness.union.example/tlog"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ledger.core.cosignature import WitnessKey, parse_witness_key
from ledger.errors import PolicyError


@dataclass(frozen=True)
class WitnessEndpoint:
    key: WitnessKey
    url: str  # the submission prefix, without a trailing slash

    @property
    def label(self) -> str:
        return self.key.label

    @property
    def add_checkpoint_url(self) -> str:
        return f"{self.url}/add-checkpoint"


@dataclass(frozen=True)
class WitnessPolicy:
    witnesses: tuple[WitnessEndpoint, ...]
    quorum: int
    timeout_seconds: float = 10.0
    min_interval_seconds: float = 0.25

    def __post_init__(self) -> None:
        if not self.witnesses:
            raise PolicyError("witness", "name at least one [[witness]] with vkey and url")
        if not 1 <= self.quorum <= len(self.witnesses):
            raise PolicyError("quorum", f"must be from 1 to the {len(self.witnesses)} witness(es) named")
        labels = [w.label for w in self.witnesses]
        if len(set(labels)) != len(labels):
            raise PolicyError("witness", "the same witness key is named twice")


def _url(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(field, "must be the witness's URL, e.g. https://witness.example")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise PolicyError(field, f"{value!r} is not an http:// or https:// URL without query or fragment")
    return value.rstrip("/")


def _seconds(doc: dict[str, Any], name: str, default: float, low: float) -> float:
    value = doc.pop(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= 3600:
        raise PolicyError(name, f"must be a number of seconds from {low:g} to 3600, not {value!r}")
    return float(value)


def load_witness_policy(toml_text: str) -> WitnessPolicy:
    """Read the witness policy file; unknown keys are refused so a typo cannot weaken the policy."""
    try:
        doc = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("witnesses", f"is not valid TOML: {exc}") from None
    entries = doc.pop("witness", [])
    if not isinstance(entries, list):
        raise PolicyError("witness", "must be an array of tables, written [[witness]]")
    witnesses = []
    for i, entry in enumerate(entries):
        where = f"witness[{i}]"
        if not isinstance(entry, dict):
            raise PolicyError(where, "must be a table with vkey and url")
        entry = dict(entry)
        vkey = entry.pop("vkey", None)
        if not isinstance(vkey, str):
            raise PolicyError(f"{where}.vkey", "is required: the witness's cosignature verifier key")
        key = parse_witness_key(vkey, f"{where}.vkey")
        witnesses.append(WitnessEndpoint(key, _url(entry.pop("url", None), f"{where}.url")))
        if entry:
            raise PolicyError(f"{where}.{sorted(entry)[0]}", "unknown key")
    quorum = doc.pop("quorum", len(witnesses))
    if isinstance(quorum, bool) or not isinstance(quorum, int):
        raise PolicyError("quorum", f"must be a whole number, not {quorum!r}")
    timeout = _seconds(doc, "timeout_seconds", 10.0, 0.1)
    interval = _seconds(doc, "min_interval_seconds", 0.25, 0.0)
    if doc:
        raise PolicyError(sorted(doc)[0], "unknown key")
    return WitnessPolicy(tuple(witnesses), quorum, timeout, interval)


def read_witness_policy(path: Path) -> WitnessPolicy:
    """The policy file at ``path`` (``hrledger serve --witnesses FILE``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError("witnesses", f"cannot read the witness policy file {path}: {exc}") from None
    return load_witness_policy(text)
