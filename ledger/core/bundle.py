"""The evidence bundle writer (SPEC section 5): plain data in, deterministic zip bytes out; no I/O.

Layout::

    manifest.json                 exactly: format, origin, vkey, subject, period, tree_size, built_at, latest,
                                  chains, withheld, late_recorded_hours, files (SHA-256 of every file below)
    manifest.sig                  the bundle declaration (hrledger.dev/bundle/v2) over manifest.json's bytes
    checkpoint                    the signed note every proof refers to, as given (with cosignatures)
    entries/<seq>.json            {"seq", "entry" (exact leaf text), "data" (JSON or null), "salt" (b64 or null)}
    proofs/<seq>.tlog-proof       c2sp.org/tlog-proof@v1 with the leaf in its extra line
    consistency/<old>-<new>.json  {"old_checkpoint", "proof"}
    timestamps/<size>.tsr         RFC 3161 responses over checkpoint notes
    report.html, case.json, VERIFY.md, verifier.pyz      the producer's presentation

The chains are the given entries: the subject's and the company's, each from its latest entry back through
``prev``. The same inputs give the same bytes (sorted names, fixed zip dates and modes). Before the bundle
is returned it is checked with the standalone verifier; a bundle that would not verify is never produced
(the one exception: a log made before v2, whose bundle says it cannot show completeness).
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

from ledger.core.notes import Signer, format_tlog_proof
from ledger.core.statements import sign_bundle_declaration
from ledger.errors import IntegrityError, ValidationError
from verifier.bundle import COMPANY, FORMAT
from verifier.check import verify_bundle
from verifier.leaf import LeafError, parse_leaf

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BundleEntry:
    """One logged entry: exact leaf bytes, canonical data and salt (both None when left out), its proof."""

    seq: int
    entry: bytes
    data: bytes | None
    salt: bytes | None
    proof: Sequence[bytes]  # RFC 9162 inclusion proof against the bundle checkpoint, leaf upward
    withheld: bool = False  # data left out of this bundle (outside the period, not cited), not erased


@dataclass(frozen=True)
class ConsistencyItem:
    """An earlier checkpoint and the consistency proof from it to the bundle's checkpoint."""

    old_checkpoint: bytes  # an earlier signed checkpoint note, verbatim
    proof: Sequence[bytes]  # RFC 9162 consistency proof from it to the bundle checkpoint


@dataclass(frozen=True)
class BundleInputs:
    """Everything a bundle is built from: the key, the subject and period, the entries, proofs and case."""

    signer: Signer  # the log's key: it signs the declaration; origin and vkey are its
    subject: str
    period_from: date
    period_to: date
    time_zone: str  # the company time zone in which the period's dates are read
    tree_size: int
    checkpoint: bytes  # the signed checkpoint note of ``tree_size``, verbatim (with any cosignatures)
    built_at: str  # RFC 3339 UTC
    latest: bool  # the tree was the latest the log had published (and had cosigned, with witnesses)
    entries: Sequence[BundleEntry]  # the subject's chain and the company's, both back far enough
    late_recorded_hours: float  # the case's policy threshold: the verifier flags late-recorded facts by it
    #: renders report.html from the verifier's result (``Result.to_json()``), the entries and the case: the
    #: court exhibit of ``ledger.services.exhibit`` (a parameter, so this pure room renders no HTML itself)
    report: Callable[[Mapping[str, Any], Sequence[BundleEntry], Any], str]
    consistency: Sequence[ConsistencyItem] = ()
    timestamps: Mapping[int, bytes] = field(default_factory=dict)  # tree size -> RFC 3161 response (DER)
    case: Any = None  # the server's case and readiness, as case.json (presentation)
    verify_md: str = ""  # VERIFY.md
    verifier_pyz: bytes | None = None  # the verifier as a zipapp


def _leaf(e: BundleEntry) -> dict[str, Any]:
    """The parsed leaf of a bundled entry; a leaf that does not parse is a ValidationError."""
    try:
        return parse_leaf(e.entry)
    except LeafError as exc:
        raise ValidationError("entries", f"seq {e.seq}: the leaf {exc}") from None


def _chain(leaves: Mapping[int, dict[str, Any]], subject: str) -> dict[str, int | None]:
    """The subject's chain in the bundle: its head, first and count (``manifest.json`` ``chains``)."""
    seqs = sorted(s for s, leaf in leaves.items() if leaf.get("subject") == subject)
    if not seqs:
        return {"head": None, "first": None, "count": 0}
    return {"head": seqs[-1], "first": seqs[0], "count": len(seqs)}


def _entry_file(e: BundleEntry) -> bytes:
    """``entries/<seq>.json``; the data is spliced in byte for byte, so its canonical form is kept."""
    if (e.data is None) != (e.salt is None):
        raise ValidationError("entries", f"seq {e.seq}: data and salt must both be given or both be None")
    if e.withheld and e.data is not None:
        raise ValidationError("entries", f"seq {e.seq}: a withheld entry carries no data")
    if e.data is None or e.salt is None:
        data_text, salt_text = "null", "null"
    else:
        try:
            data_text = e.data.decode("utf-8")
            json.loads(data_text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError("entries", f"seq {e.seq}: data is not UTF-8 JSON: {exc}") from None
        salt_text = json.dumps(base64.b64encode(e.salt).decode("ascii"))
    text = json.dumps(e.entry.decode("utf-8"), ensure_ascii=False)
    return f'{{"seq":{e.seq},"entry":{text},"data":{data_text},"salt":{salt_text}}}\n'.encode()


def _json_file(value: Any) -> bytes:
    """A JSON file of the bundle: UTF-8, sorted keys, indented, final newline."""
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _zip(files: Mapping[str, bytes], *, compress: bool = True) -> bytes:
    """The zip of ``files`` (deflated unless ``compress`` is false), entries in name order."""
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


def _signed(inputs: BundleInputs, manifest: dict[str, Any], files: dict[str, bytes], *, compress: bool) -> bytes:
    """The manifest with every file's hash, its signed declaration, and the zip of it all."""
    listed = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    raw = _json_file({**manifest, "files": listed})
    declaration = sign_bundle_declaration(inputs.signer, raw)
    return _zip({**files, "manifest.json": raw, "manifest.sig": declaration}, compress=compress)


def _number(value: float) -> float | int:
    """Whole hours as an integer in the manifest, as the policy file writes them."""
    return int(value) if value == int(value) else value


def bundle_files(inputs: BundleInputs) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest (without ``files``) and every file but report.html, manifest.json and manifest.sig."""
    if inputs.period_from > inputs.period_to:
        raise ValidationError("period", f"from {inputs.period_from} is after to {inputs.period_to}")
    files: dict[str, bytes] = {"checkpoint": bytes(inputs.checkpoint)}
    leaves: dict[int, dict[str, Any]] = {}
    for e in sorted(inputs.entries, key=lambda e: e.seq):
        if e.seq in leaves:
            raise ValidationError("entries", f"seq {e.seq} is given twice")
        leaves[e.seq] = _leaf(e)
        files[f"entries/{e.seq}.json"] = _entry_file(e)
        files[f"proofs/{e.seq}.tlog-proof"] = format_tlog_proof(e.seq, e.proof, inputs.checkpoint, extra=e.entry)
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
    if inputs.case is not None:
        files["case.json"] = _json_file(inputs.case)
    if inputs.verify_md:
        files["VERIFY.md"] = inputs.verify_md.encode("utf-8")
    if inputs.verifier_pyz is not None:
        files["verifier.pyz"] = bytes(inputs.verifier_pyz)
    manifest = {
        "format": FORMAT,
        "origin": inputs.signer.name,
        "vkey": inputs.signer.vkey,
        "subject": inputs.subject,
        "period": {
            "from": inputs.period_from.isoformat(),
            "to": inputs.period_to.isoformat(),
            "time_zone": inputs.time_zone,
        },
        "tree_size": inputs.tree_size,
        "built_at": inputs.built_at,
        "latest": inputs.latest,
        "chains": {inputs.subject: _chain(leaves, inputs.subject), COMPANY: _chain(leaves, COMPANY)},
        "withheld": sorted(e.seq for e in inputs.entries if e.withheld),
        "late_recorded_hours": _number(inputs.late_recorded_hours),
    }
    return manifest, files


def build_bundle(inputs: BundleInputs) -> bytes:
    """The evidence bundle as zip bytes; its report.html shows the verifier's result on it.

    Raises ValidationError on bad inputs and IntegrityError if the bundle would not verify."""
    manifest, files = bundle_files(inputs)
    # The draft is only read back by the verifier: storing it uncompressed halves the build time.
    draft = _signed(inputs, manifest, files, compress=False)
    result = verify_bundle(draft, inputs.signer.verifier(), name=bundle_name(inputs))
    refused = [f for f in result.failures if f not in result.unprovable]
    if refused:
        raise IntegrityError("the bundle would not verify: " + "; ".join(refused[:20]))
    report = inputs.report(result.to_json(), inputs.entries, inputs.case)
    files["report.html"] = report.encode("utf-8")
    return _signed(inputs, manifest, files, compress=True)


def bundle_name(inputs: BundleInputs) -> str:
    """The bundle's file name: subject and period."""
    return f"{inputs.subject}_{inputs.period_from.isoformat()}_{inputs.period_to.isoformat()}.zip"


def _note_size(note: bytes) -> int:
    """The tree size of a checkpoint note; ValidationError when it is not one."""
    lines = note.split(b"\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise ValidationError("consistency", "an old checkpoint is not a signed checkpoint note")
    return int(lines[1])
