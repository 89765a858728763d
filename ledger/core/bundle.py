"""Evidence bundle writer (SPEC section 5): plain data in, deterministic zip bytes out; no I/O.

Layout::

    manifest.json                 format hrledger-bundle/1, origin, vkey, subject, period, tree_size,
                                  subject_seqs, context_seqs, files {name: sha256 hex} (all but itself)
    checkpoint                    the signed note every proof refers to
    entries/<seq>.json            {"seq", "entry" (exact leaf text), "data" (JSON or null), "salt" (b64 or null)}
    proofs/<seq>.tlog-proof       c2sp.org/tlog-proof@v1 against ``checkpoint``
    consistency/<old>-<new>.json  {"old_checkpoint": signed note, "proof": [b64...]}
    timestamps/<size>.tsr         RFC 3161 responses over checkpoint note bytes
    <extra>.json                  e.g. case.json (the server's case and readiness), listed like the rest
    report.html, VERIFY.md

The same inputs give the same bytes: sorted names, fixed timestamps (1980-01-01), permissions,
compression. Before returning, the bundle is checked with the standalone verifier (``verifier``), whose
result is rendered as ``report.html``; a bundle that would not verify is never produced.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from ledger.core.notes import format_tlog_proof
from ledger.core.verify_md import VERIFY_MD
from ledger.errors import IntegrityError, ValidationError
from verifier.check import verify_bundle
from verifier.note import NoteError, parse_vkey
from verifier.report import render_html
from verifier.timeline import parse_time

FORMAT = "hrledger-bundle/1"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
RESERVED = frozenset({"manifest.json", "checkpoint", "report.html", "VERIFY.md"})


@dataclass(frozen=True)
class BundleEntry:
    """One logged entry: exact leaf bytes, canonical data and salt (both None when erased), its proof."""

    seq: int
    entry: bytes
    data: bytes | None
    salt: bytes | None
    proof: Sequence[bytes]  # RFC 9162 inclusion proof against the bundle checkpoint, leaf upward


@dataclass(frozen=True)
class ConsistencyItem:
    old_checkpoint: bytes  # an earlier signed checkpoint note, verbatim
    proof: Sequence[bytes]  # RFC 9162 consistency proof from it to the bundle checkpoint


@dataclass(frozen=True)
class BundleInputs:
    origin: str
    vkey: str
    subject: str
    period_from: date
    period_to: date
    tree_size: int
    checkpoint: bytes  # signed checkpoint note of ``tree_size``, verbatim
    entries: Sequence[BundleEntry]  # the subject's entries in the period and the ones the case rests on
    consistency: Sequence[ConsistencyItem] = ()
    timestamps: Mapping[int, bytes] = field(default_factory=dict)  # tree size -> RFC 3161 response (DER)
    extra: Mapping[str, Any] = field(default_factory=dict)  # file name -> JSON value, e.g. "case.json"
    time_zone: str = "Asia/Shanghai"  # company time zone in which the period's dates are read
    verify_text: str = VERIFY_MD
    #: renders report.html from the verifier's result (``Result.to_json()``) and the entries; None: the
    #: verifier's own report (the service passes the court exhibit, ``ledger.services.exhibit``)
    report: Callable[[Mapping[str, Any], Sequence[BundleEntry]], str] | None = None


def _occurred_date(leaf: Mapping[str, Any], tz: ZoneInfo) -> date | None:
    t = parse_time(leaf.get("occurred_at"))
    return None if t is None else t.astimezone(tz).date()


def _entry_file(e: BundleEntry) -> tuple[bytes, dict[str, Any]]:
    """``entries/<seq>.json`` (data spliced in byte for byte, so its canonical form is kept) and the leaf."""
    try:
        text = e.entry.decode("utf-8")
        leaf = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("entries", f"seq {e.seq}: the leaf is not UTF-8 JSON: {exc}") from None
    if (e.data is None) != (e.salt is None):
        raise ValidationError("entries", f"seq {e.seq}: data and salt must both be given or both be None")
    if e.data is None or e.salt is None:
        data_text, salt_text = "null", "null"
    else:
        try:
            data_text = e.data.decode("utf-8")
            json.loads(data_text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError("entries", f"seq {e.seq}: data is not UTF-8 JSON: {exc}") from None
        salt_text = json.dumps(base64.b64encode(e.salt).decode("ascii"))
    body = f'{{"seq":{e.seq},"entry":{json.dumps(text, ensure_ascii=False)},"data":{data_text},"salt":{salt_text}}}\n'
    return body.encode("utf-8"), leaf


def _json_file(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _zip(files: Mapping[str, bytes], *, compress: bool = True) -> bytes:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = method
            info.create_system = 3  # Unix, so the permissions below are meaningful everywhere
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name], compress_type=method, compresslevel=6 if compress else None)
    return buf.getvalue()


def _with_manifest(manifest: dict[str, Any], files: dict[str, bytes], *, compress: bool = True) -> bytes:
    listed = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    return _zip({**files, "manifest.json": _json_file({**manifest, "files": listed})}, compress=compress)


def build_bundle(inputs: BundleInputs) -> bytes:
    """The evidence bundle as zip bytes; raises ValidationError on bad inputs, IntegrityError if it would not verify."""
    try:
        vkey = parse_vkey(inputs.vkey)
        tz = ZoneInfo(inputs.time_zone)
    except (NoteError, KeyError, ValueError) as exc:
        raise ValidationError("bundle", f"bad vkey or time zone: {exc}") from None
    if inputs.period_from > inputs.period_to:
        raise ValidationError("period", f"from {inputs.period_from} is after to {inputs.period_to}")
    files: dict[str, bytes] = {"checkpoint": bytes(inputs.checkpoint), "VERIFY.md": inputs.verify_text.encode()}
    subject_seqs: list[int] = []
    context_seqs: list[int] = []
    for e in sorted(inputs.entries, key=lambda e: e.seq):
        if f"entries/{e.seq}.json" in files:
            raise ValidationError("entries", f"seq {e.seq} is given twice")
        files[f"entries/{e.seq}.json"], leaf = _entry_file(e)
        files[f"proofs/{e.seq}.tlog-proof"] = format_tlog_proof(e.seq, e.proof, inputs.checkpoint)
        day = _occurred_date(leaf, tz)
        in_period = day is not None and inputs.period_from <= day <= inputs.period_to
        (subject_seqs if leaf.get("subject") == inputs.subject and in_period else context_seqs).append(e.seq)
    for item in inputs.consistency:
        old_size = _note_size(item.old_checkpoint)
        files[f"consistency/{old_size}-{inputs.tree_size}.json"] = _json_file(
            {
                "old_checkpoint": item.old_checkpoint.decode("utf-8"),
                "proof": [base64.b64encode(h).decode("ascii") for h in item.proof],
            }
        )
    for size, token in inputs.timestamps.items():
        files[f"timestamps/{size}.tsr"] = bytes(token)
    for name, value in inputs.extra.items():
        if name in RESERVED or "/" in name or not name.endswith(".json"):
            raise ValidationError("extra", f"{name!r} must be a top-level *.json name not used by the bundle")
        files[name] = _json_file(value)
    manifest = {
        "format": FORMAT,
        "origin": inputs.origin,
        "vkey": inputs.vkey,
        "subject": inputs.subject,
        "period": {
            "from": inputs.period_from.isoformat(),
            "to": inputs.period_to.isoformat(),
            "time_zone": inputs.time_zone,
        },
        "tree_size": inputs.tree_size,
        "subject_seqs": subject_seqs,
        "context_seqs": context_seqs,
    }
    # The draft is only read back by the verifier: storing it uncompressed halves the build time.
    result = verify_bundle(_with_manifest(manifest, files, compress=False), vkey, name=_bundle_name(inputs))
    if not result.ok:
        raise IntegrityError("the bundle would not verify: " + "; ".join(result.failures))
    report = render_html(result) if inputs.report is None else inputs.report(result.to_json(), inputs.entries)
    files["report.html"] = report.encode("utf-8")
    return _with_manifest(manifest, files)


def _bundle_name(inputs: BundleInputs) -> str:
    return f"{inputs.subject}_{inputs.period_from.isoformat()}_{inputs.period_to.isoformat()}.zip"


def _note_size(note: bytes) -> int:
    lines = note.split(b"\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValidationError("consistency", "an old checkpoint is not a signed checkpoint note")
    return int(lines[1])
