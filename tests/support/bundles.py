"""Real bundles for the verifier tests: a small in-memory log of v2 leaves (real RFC 9162 nodes, real Ed25519
checkpoints) and ledger.core.bundle; plus ``rewrite`` to tamper with a built bundle the way an attacker would,
re-hashing the manifest and, when the attacker holds the log's key, re-signing the declaration."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.core import merkle
from ledger.core.bundle import BundleEntry, BundleInputs, ConsistencyItem, bundle_files
from ledger.core.entries import canonical_json
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint
from ledger.core.statements import sign_bundle_declaration
from ledger.services.exhibit import render_court_exhibit
from tests.support.memtree import consistency_proof, inclusion_proof, memory_nodes, root_of_leaf_hashes
from verifier.jcs import canonicalize

ORIGIN = "hr.example.com/ledger"
SUBJECT = "E1001"
PERIOD = (date(2026, 3, 1), date(2026, 3, 31))
BUILT_AT = "2026-04-05T02:00:00Z"


def signer(name: str = ORIGIN, seed: bytes = b"\x11" * 32) -> Signer:
    return Signer(name, seed)


@dataclass
class MemLog:
    """An append-only log in memory that keeps data and salts beside the leaves, like the real one, and
    writes v2 leaves as the sequencer does (``prev`` per subject, ``recorded_at`` never decreasing)."""

    key: Signer = field(default_factory=signer)
    leaves: list[bytes] = field(default_factory=list)
    data: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)

    def append(
        self,
        subject: str,
        type_: str,
        occurred_at: str,
        data: dict[str, Any],
        recorded_at: str | None = None,
        *,
        v: int = 2,
        prev: int | str | None = "auto",
        exact_time: bool = False,
    ) -> int:
        """Append one leaf as the sequencer writes it; ``prev`` and ``exact_time`` let a forger lie (another
        prev than the subject's previous seq, a recorded_at earlier than the last one)."""
        seq = len(self.leaves)
        salt = hashlib.sha256(b"salt" + str(seq).encode()).digest()  # deterministic for the tests
        data_bytes = canonical_json(data)
        recorded = recorded_at or _recorded(occurred_at)
        recorded = recorded if exact_time else max(recorded, self.last_recorded())
        leaf: dict[str, Any] = {
            "v": v,
            "seq": seq,
            "event_id": f"ev-{seq}",
            "type": type_,
            "subject": subject,
            "occurred_at": occurred_at,
            "recorded_at": recorded,
            "source": "hris",
            "data_digest": "sha256:" + hashlib.sha256(salt + data_bytes).hexdigest(),
        }
        if v == 2:
            leaf["prev"] = self.heads.get(subject) if prev == "auto" else prev
        self.heads[subject] = seq
        self.leaves.append(canonicalize(leaf))
        self.data[seq] = (data_bytes, salt)
        return seq

    def last_recorded(self) -> str:
        return json.loads(self.leaves[-1])["recorded_at"] if self.leaves else ""

    def leaf(self, seq: int) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self.leaves[seq])
        return obj

    def nodes(self, size: int) -> dict[merkle.NodeId, bytes]:
        return memory_nodes([merkle.leaf_hash(e) for e in self.leaves[:size]])

    def checkpoint(self, size: int, key: Signer | None = None, origin: str | None = None) -> bytes:
        key = key or self.key
        root = root_of_leaf_hashes([merkle.leaf_hash(e) for e in self.leaves[:size]])
        return sign_checkpoint(CheckpointBody(origin or key.name, size, root), key)

    def proof(self, seq: int, size: int) -> list[bytes]:
        return inclusion_proof(seq, size, self.nodes(size).__getitem__)

    def inputs(
        self,
        subject: str = SUBJECT,
        *,
        size: int | None = None,
        first: int | None = None,
        old_sizes: Iterable[int] = (),
        erased: Iterable[int] = (),
        withheld: Iterable[int] = (),
        key: Signer | None = None,
        period: tuple[date, date] = PERIOD,
        case: Any = None,
    ) -> BundleInputs:
        """Inputs of an honest bundle: the subject's chain from its head back to ``first`` (default: its
        first entry) and the company's whole chain."""
        size = len(self.leaves) if size is None else size
        key = key or self.key
        nodes = self.nodes(size)
        own = [s for s in range(size) if self.leaf(s)["subject"] == subject]
        start = own[0] if first is None else first
        seqs = [s for s in own if s >= start] + [s for s in range(size) if self.leaf(s)["subject"] == "company"]
        gone, hidden = set(erased), set(withheld)
        entries = [
            BundleEntry(
                seq=s,
                entry=self.leaves[s],
                data=None if s in gone | hidden else self.data[s][0],
                salt=None if s in gone | hidden else self.data[s][1],
                proof=inclusion_proof(s, size, nodes.__getitem__),
                withheld=s in hidden,
            )
            for s in sorted(seqs)
        ]
        consistency = [
            ConsistencyItem(self.checkpoint(o, key), consistency_proof(o, size, nodes.__getitem__)) for o in old_sizes
        ]
        return BundleInputs(
            signer=key,
            subject=subject,
            period_from=period[0],
            period_to=period[1],
            time_zone="Asia/Shanghai",
            tree_size=size,
            checkpoint=self.checkpoint(size, key),
            built_at=BUILT_AT,
            latest=True,
            entries=entries,
            late_recorded_hours=24,
            report=render_court_exhibit,
            consistency=consistency,
            case=case,
            verify_md="# VERIFY\n",
            verifier_pyz=b"PK-placeholder",
        )


def _recorded(occurred_at: str) -> str:
    """A receipt time shortly after a +08:00 occurrence, in UTC with microseconds."""
    day, clock = occurred_at[:10], occurred_at[11:19]
    hour = int(clock[:2]) - 8
    if hour < 0:
        return f"{day}T{hour + 24:02d}:{clock[3:5]}:{clock[6:8]}.250000Z".replace(day, _prev(day))
    return f"{day}T{hour:02d}:{clock[3:5]}:{clock[6:8]}.250000Z"


def _prev(day: str) -> str:
    return date.fromordinal(date.fromisoformat(day).toordinal() - 1).isoformat()


def sample_log() -> MemLog:
    """E1001 goes on sick leave in March 2026 and does not come back; other staff interleave."""
    log = MemLog()
    a = log.append
    a(
        "company",
        "policy.adopted",
        "2025-12-01T10:00:00+08:00",
        {
            "policy_id": "handbook",
            "version": "3",
            "document_digest": "sha256:" + "ab" * 32,
            "effective_from": "2026-01-01",
            "democratic_procedure": "职工代表大会 2025-11-20",
        },
    )  # 0
    a(SUBJECT, "policy.acknowledged", "2026-01-05T09:30:00+08:00", {"policy_id": "handbook", "version": "3"})  # 1
    a("E2002", "attendance.clock_in", "2026-03-02T08:55:00+08:00", {"method": "face"})  # 2
    a(
        SUBJECT,
        "leave.requested",
        "2026-03-02T09:00:00+08:00",
        {"leave_id": "L1", "kind": "sick", "start": "2026-03-02", "end": "2026-03-06"},
    )  # 3
    a(SUBJECT, "leave.approved", "2026-03-02T11:00:00+08:00", {"leave_id": "L1"})  # 4
    a("E2002", "attendance.clock_out", "2026-03-02T18:00:00+08:00", {"method": "face"})  # 5
    a(
        SUBJECT,
        "contact.attempted",
        "2026-03-10T10:00:00+08:00",
        {"channel": "phone", "target": "employee", "value": "+86 138 0000 0000", "result": "no_answer"},
    )  # 6
    a(
        SUBJECT,
        "escalation.stage_entered",
        "2026-03-10T11:00:00+08:00",
        {
            "case_id": "C-E1001-L1",
            "stage": "reminder",
            "overdue_days": 1,
            "basis": [3, 4],
            "policy_digest": "sha256:" + "cd" * 32,
        },
    )  # 7
    a(
        SUBJECT,
        "contact.attempted",
        "2026-03-11T10:00:00+08:00",
        {"channel": "sms", "target": "emergency_contact", "result": "delivered", "note": "母亲 王女士"},
        recorded_at="2026-03-14T02:00:00.000000Z",
    )  # 8, late-recorded
    a("E2002", "attendance.clock_in", "2026-03-12T08:50:00+08:00", {"method": "gps", "location": "31.2,121.5"})  # 9
    a(
        SUBJECT,
        "notice.issued",
        "2026-03-13T15:00:00+08:00",
        {
            "notice_id": "N1",
            "kind": "return_demand",
            "document_digest": "sha256:" + "ef" * 32,
            "recipients": ["E1001"],
            "channels": ["post", "sms"],
            "weight": 1.5,
        },
    )  # 10
    a(SUBJECT, "custom.note", "2026-04-02T09:00:00+08:00", {"text": "after the period"})  # 11
    return log


def read(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def zip_files(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
    return buf.getvalue()


def rewrite(
    bundle: bytes,
    changes: Mapping[str, bytes | None] | None = None,
    *,
    manifest: Callable[[dict[str, Any]], object] | None = None,
    fix_manifest: bool = True,
    resign: Signer | None = None,
) -> bytes:
    """A tampered copy: files replaced (None deletes), the manifest edited and its files re-hashed (unless
    ``fix_manifest`` is False), and manifest.sig re-signed with ``resign`` (an attacker holding that key)."""
    files = read(bundle)
    for name, data in (changes or {}).items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    m = json.loads(files["manifest.json"])
    if manifest:
        manifest(m)
    if fix_manifest:
        m["files"] = {
            n: hashlib.sha256(d).hexdigest()
            for n, d in sorted(files.items())
            if n not in ("manifest.json", "manifest.sig")
        }
    if manifest or fix_manifest:
        files["manifest.json"] = (json.dumps(m, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()
    if resign is not None:
        files["manifest.sig"] = sign_bundle_declaration(resign, files["manifest.json"])
    return zip_files(files)


def entry_file(seq: int, leaf: bytes, data: Any, salt: bytes | None) -> bytes:
    """An entries/<seq>.json as the builder writes it."""
    doc = {
        "seq": seq,
        "entry": leaf.decode(),
        "data": data,
        "salt": None if salt is None else base64.b64encode(salt).decode(),
    }
    return json.dumps(doc, ensure_ascii=False).encode()


def flip_proof_hash(proof: bytes) -> bytes:
    """Flip one bit of the first proof hash of a tlog-proof (the line after ``index``)."""
    lines = proof.split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(b"index ")) + 1
    h = bytearray(base64.b64decode(lines[at]))
    h[0] ^= 1
    lines[at] = base64.b64encode(bytes(h))
    return b"\n".join(lines)


def build_unchecked(log: MemLog) -> bytes:
    """What a lying producer exports: the builder's own check is bypassed (it would refuse)."""
    inputs = log.inputs()
    manifest, files = bundle_files(inputs)
    return zip_files({**files, **signed_manifest(manifest, files, log.key)})


def signed_manifest(manifest: dict[str, Any], files: dict[str, bytes], key: Signer) -> dict[str, bytes]:
    """manifest.json listing ``files`` and its declaration signed with ``key``."""
    listed = {n: hashlib.sha256(d).hexdigest() for n, d in sorted(files.items())}
    raw = (json.dumps({**manifest, "files": listed}, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    return {"manifest.json": raw, "manifest.sig": sign_bundle_declaration(key, raw)}
