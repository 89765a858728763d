"""The bundle in memory, and steps 2 and 3: the declaration over the exact manifest, and every file's hash.

``manifest.json`` has exactly the keys of SPEC section 5; ``manifest.sig`` is the log's bundle declaration
over its exact bytes (``verifier.statement``), so nothing in the manifest can be changed without the key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from verifier import jcs, statement
from verifier.note import Checkpoint, NoteError, Verifier
from verifier.result import Fact, Result
from verifier.rfc3339 import TimeFormatError, parse_rfc3339
from verifier.text import shown

FORMAT = "hrledger-bundle/2"
COMPANY = "company"
MANIFEST_KEYS = (
    "format",
    "origin",
    "vkey",
    "subject",
    "period",
    "tree_size",
    "built_at",
    "latest",
    "chains",
    "withheld",
    "late_recorded_hours",
    "files",
)
PRESENTATION = ("report.html", "case.json", "VERIFY.md", "verifier.pyz")
EVIDENCE_NAMES = re.compile(
    r"checkpoint|entries/(0|[1-9][0-9]*)\.json|proofs/(0|[1-9][0-9]*)\.tlog-proof"
    r"|consistency/(0|[1-9][0-9]*)-(0|[1-9][0-9]*)\.json|timestamps/(0|[1-9][0-9]*)\.tsr"
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ACTIVE = re.compile(
    rb"<\s*(script|iframe|object|embed|link|base|form)\b|javascript:|\son\w+\s*=|https?://|@import", re.I
)


@dataclass(frozen=True)
class Chain:
    """A declared chain: the subject's entries from ``head`` back through ``prev`` to ``first``."""

    subject: str
    head: int | None
    first: int | None
    count: int


@dataclass
class Manifest:
    subject: str
    period_from: date
    period_to: date
    time_zone: str
    tz: tzinfo | None  # None when the zone is unknown here (a failure)
    tree_size: int
    built_at: datetime | None
    latest: bool
    chains: dict[str, Chain]  # "subject" and "company"
    withheld: list[int]
    late_hours: float | None
    files: dict[str, str]

    @property
    def period_start(self) -> datetime | None:
        """The instant the period's first day began in the company time zone."""
        return None if self.tz is None else datetime.combine(self.period_from, time(), tzinfo=self.tz)

    def in_period(self, instant: datetime | None) -> bool | None:
        if instant is None or self.tz is None:
            return None
        return self.period_from <= instant.astimezone(self.tz).date() <= self.period_to


@dataclass
class Bundle:
    files: dict[str, bytes]
    manifest: Manifest | None = None
    checkpoint: Checkpoint | None = None
    logged_notes: dict[int, bytes] = field(default_factory=dict)  # verified checkpoints as the log signed them
    leaves: dict[int, dict[str, Any]] = field(default_factory=dict)  # parsed, well-formed leaves by seq
    leaf_bytes: dict[int, bytes] = field(default_factory=dict)
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)  # entries/<seq>.json objects
    facts: dict[int, Fact] = field(default_factory=dict)


def _object(value: Any, keys: tuple[str, ...], what: str, r: Result) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        r.fail(2, f"manifest.json: {what} is not a JSON object")
        return None
    if sorted(value) != sorted(keys):
        extra, missing = sorted(set(value) - set(keys)), sorted(set(keys) - set(value))
        r.fail(2, f"manifest.json: {what} must have exactly {', '.join(keys)} (extra: {extra}, missing: {missing})")
        return None
    return value


def _int(value: Any) -> bool:
    return type(value) is int and value >= 0


def _zone(name: Any, r: Result) -> tzinfo | None:
    if name == "UTC":
        return UTC
    try:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*", name):
            raise ValueError
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        r.fail(
            2,
            f"manifest.json: period.time_zone {shown(name)!r} is not a time zone known here: the period "
            "cannot be checked (the IANA database names it, e.g. Asia/Shanghai)",
        )
        return None


def _chain(name: str, value: Any, subject: str, tree_size: int, r: Result) -> Chain | None:
    doc = _object(value, ("head", "first", "count"), f"chains[{shown(name)!r}]", r)
    if doc is None:
        return None
    head, first, count = doc["head"], doc["first"], doc["count"]
    where = f"manifest.json: chains[{shown(name)!r}]"
    if not _int(count):
        r.fail(2, f"{where}: count must be a non-negative integer")
        return None
    if count == 0:
        if head is not None or first is not None:
            r.fail(2, f"{where}: an empty chain has head and first null")
            return None
        return Chain(subject, None, None, 0)
    if not (_int(head) and _int(first) and first <= head < tree_size and count <= head - first + 1):
        r.fail(2, f"{where}: head {head!r} and first {first!r} must be seqs first <= head < tree_size, count fitting")
        return None
    return Chain(subject, head, first, count)


def parse_manifest(raw: bytes, vkey: Verifier, r: Result) -> Manifest | None:
    """The manifest's exact form (step 2); None when it cannot be used at all."""
    try:
        m = jcs.load_json(raw)
    except jcs.JSONError as exc:
        r.fail(2, f"manifest.json is not strict JSON: {exc}")
        return None
    doc = _object(m, MANIFEST_KEYS, "the manifest", r)
    if doc is None:
        if isinstance(m, dict) and m.get("format") == "hrledger-bundle/1":
            r.fail(
                2,
                "manifest.json: format hrledger-bundle/1 was made before v2: it declares no chains and "
                "has no manifest.sig, so it cannot show that the record is complete",
            )
        return None
    bad = len(r.steps[2].failures)
    if doc["format"] != FORMAT:
        r.fail(2, f"manifest.json: format is {shown(doc['format'])!r}, expected {FORMAT!r}")
    if doc["origin"] != vkey.name:
        r.fail(2, f"manifest.json: origin {shown(doc['origin'])!r} is not the key's name {shown(vkey.name)!r}")
    if doc["vkey"] != vkey.text:
        r.fail(2, f"manifest.json names verifier key {shown(doc['vkey'])!r}, not the key given ({vkey.text})")
    subject = doc["subject"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= 128 or "/" in subject or subject == COMPANY:
        r.fail(2, f"manifest.json: subject {shown(subject)!r} is not an employee id")
        return None
    tree_size = doc["tree_size"]
    if not _int(tree_size) or tree_size == 0:
        r.fail(2, "manifest.json: tree_size must be a positive integer")
        return None
    period = _object(doc["period"], ("from", "to", "time_zone"), "period", r)
    days: list[date] = []
    for key in ("from", "to"):
        value = period.get(key) if period else None
        try:
            if not (isinstance(value, str) and _DAY.fullmatch(value)):
                raise ValueError
            days.append(date.fromisoformat(value))
        except ValueError:
            r.fail(2, f"manifest.json: period.{key} {shown(value)!r} is not a date YYYY-MM-DD")
    if len(days) == 2 and days[0] > days[1]:
        r.fail(2, f"manifest.json: the period starts {days[0]} after it ends {days[1]}")
    tz = _zone(period.get("time_zone") if period else None, r)
    built: datetime | None = None
    try:
        if not (isinstance(doc["built_at"], str) and doc["built_at"].endswith("Z")):
            raise TimeFormatError("must be RFC 3339 UTC ending in Z")
        built = parse_rfc3339(doc["built_at"])
    except TimeFormatError as exc:
        r.fail(2, f"manifest.json: built_at {exc}")
    if type(doc["latest"]) is not bool:
        r.fail(2, "manifest.json: latest must be true or false")
    chains_doc = _object(doc["chains"], (subject, COMPANY), "chains", r)
    chains: dict[str, Chain] = {}
    for role, name in (("subject", subject), ("company", COMPANY)):
        if chains_doc is not None and (c := _chain(name, chains_doc[name], name, tree_size, r)) is not None:
            chains[role] = c
    withheld = doc["withheld"]
    if not (isinstance(withheld, list) and all(_int(s) and s < tree_size for s in withheld)) or withheld != sorted(
        set(withheld)
    ):
        r.fail(2, "manifest.json: withheld must be strictly increasing seqs below tree_size")
        withheld = []
    late = doc["late_recorded_hours"]
    if isinstance(late, bool) or not isinstance(late, (int, float)) or not 0 < late <= 24 * 366:
        r.fail(2, "manifest.json: late_recorded_hours must be a positive number of hours (at most a year)")
        late = None
    files = doc["files"]
    if not (isinstance(files, dict) and all(isinstance(v, str) and _HEX64.fullmatch(v) for v in files.values())):
        r.fail(2, "manifest.json: files must map each file name to its SHA-256 in lowercase hex")
        files = {}
    if len(days) != 2 or len(chains) != 2 or len(r.steps[2].failures) > bad + 8:
        return None
    return Manifest(
        subject,
        days[0],
        days[1],
        str(period["time_zone"]) if period else "",
        tz,
        tree_size,
        built,
        doc["latest"] is True,
        chains,
        withheld,
        None if late is None else float(late),
        files,
    )


def step2_declaration(b: Bundle, r: Result, vkey: Verifier) -> None:
    """manifest.sig is the log's declaration over the exact manifest.json bytes; the manifest's exact form."""
    raw, sig = b.files.get("manifest.json"), b.files.get("manifest.sig")
    if raw is None:
        r.fail(2, "manifest.json is missing")
        return
    if sig is None:
        r.fail(2, "manifest.sig is missing: nothing shows that the log's key holder made this manifest")
    else:
        try:
            declared = statement.open_bundle_declaration(sig, vkey)
            if declared.manifest_sha256 != hashlib.sha256(raw).digest():
                r.fail(2, "manifest.sig declares another manifest.json (its SHA-256 differs from the file's)")
            else:
                r.note(2, f"manifest.sig: the key {vkey.name}+{vkey.key_id.hex()} declares this exact manifest.json")
        except NoteError as exc:
            r.fail(2, str(exc))
    b.manifest = m = parse_manifest(raw, vkey, r)
    if m is not None:
        r.subject, r.period_from, r.period_to = m.subject, m.period_from.isoformat(), m.period_to.isoformat()
        r.time_zone = m.time_zone
        r.tree_size, r.latest, r.late_recorded_hours = m.tree_size, m.latest, m.late_hours
        r.built_at = None if m.built_at is None else m.built_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not m.latest:
            r.note(2, "latest is false: the producer does not claim this was the log's latest tree when built")


def step3_files(b: Bundle, r: Result) -> None:
    """Every file but manifest.json and manifest.sig listed with its SHA-256; nothing else in the archive."""
    listed = b.manifest.files if b.manifest is not None else {}
    if b.manifest is None:
        r.skip(3, "not checked: the manifest is unusable (step 2)")
        return
    for name in sorted(b.files):
        if name in ("manifest.json", "manifest.sig"):
            continue
        if name not in listed:
            r.fail(3, f"{shown(name)} is in the archive but not listed in manifest.json")
        elif hashlib.sha256(b.files[name]).hexdigest() != listed[name]:
            r.fail(3, f"{shown(name)}: its SHA-256 is not the one manifest.json lists")
        if not (EVIDENCE_NAMES.fullmatch(name) or name in PRESENTATION):
            r.fail(3, f"{shown(name)} is not a file a bundle holds")
    for name in sorted(set(listed) - set(b.files)):
        r.fail(3, f"{shown(name)} is listed in manifest.json but missing from the archive")
    r.note(3, f"{len(listed)} files listed")
    for name in PRESENTATION:
        if name in b.files:
            r.presentation.append(name)
    if "report.html" in b.files and _ACTIVE.search(b.files["report.html"]):
        r.fail(
            3,
            "report.html holds active content or links (script, handler or URL): do not open it; "
            "it is the producer's presentation, and this verifier writes its own report (--html)",
        )
    if r.presentation:
        r.note(
            3,
            f"{', '.join(r.presentation)}: the producer's presentation, covered by the declaration but not "
            "evidence; this verifier's own report (--html) is built from the verified entries only",
        )
    if "verifier.pyz" in b.files:
        digest = hashlib.sha256(b.files["verifier.pyz"]).hexdigest()
        r.note(3, f"verifier.pyz has SHA-256 {digest}: compare it with the published release before running it")


def recorded_before(instant: datetime | None, start: datetime | None) -> bool:
    """Strictly more than 5 minutes before ``start`` (no later entry can then have occurred in the period)."""
    return instant is not None and start is not None and instant < start - timedelta(minutes=5)
