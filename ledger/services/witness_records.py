"""What the log keeps about its witnesses, as storage records (so every process of a log sees the same):

- ``cosignature`` (key: zero-padded tree size): the cosignature lines the witnesses gave the checkpoint
  of that size, by witness; ``cosigned_note`` appends them to the log's note, for ``GET /v1/checkpoint``
  and for bundles.
- ``witness-state`` (key: the witness ``<name>+<key id>``): the latest size it cosigned and when, and a
  submission whose answer never came (so a later "409: I have that size" is understood, not an alarm).
- ``witness-evidence`` (key: time and witness): a refusal that means the witness saw another history for
  this log, with the log's checkpoint, the witness, the HTTP status and the body (SPEC section 7).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from ledger.core.records import StoredCheckpoint
from ledger.errors import IntegrityError
from ledger.storage.base import Storage

COSIGNATURES = "cosignature"
STATE = "witness-state"
EVIDENCE = "witness-evidence"
MAX_EVIDENCE_BODY = 4096  # bytes of a witness's answer kept with the evidence


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def size_key(size: int) -> str:
    return f"{size:020d}"


@dataclass
class WitnessState:
    """One witness as the log knows it."""

    label: str
    size: int = 0  # the latest checkpoint size it cosigned (0: none yet, so the first request says old 0)
    root: str | None = None  # base64 root of that checkpoint
    timestamp: int | None = None  # the witness's time on that cosignature (POSIX seconds)
    unanswered: tuple[int, str] | None = None  # (size, root) sent without an answer: it may have cosigned it
    evidence: int = 0  # split-view evidence records about this witness
    disputed: bool = False  # its last refusal was split-view evidence: it does not count towards the quorum

    def to_doc(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": self.root,
            "timestamp": self.timestamp,
            "unanswered": None if self.unanswered is None else {"size": self.unanswered[0], "root": self.unanswered[1]},
            "evidence": self.evidence,
            "disputed": self.disputed,
        }

    @classmethod
    def from_doc(cls, label: str, doc: dict[str, Any] | None) -> WitnessState:
        if doc is None:
            return cls(label)
        pending = doc.get("unanswered")
        return cls(
            label,
            int(doc.get("size", 0)),
            doc.get("root"),
            doc.get("timestamp"),
            None if not isinstance(pending, dict) else (int(pending["size"]), str(pending["root"])),
            int(doc.get("evidence", 0)),
            bool(doc.get("disputed", False)),
        )


async def load_state(store: Storage, label: str) -> WitnessState:
    return WitnessState.from_doc(label, await store.get_record(STATE, label))


async def save_state(store: Storage, state: WitnessState) -> None:
    await store.put_record(STATE, state.label, state.to_doc())


async def add_cosignature(
    store: Storage, checkpoint: StoredCheckpoint, label: str, line: str, timestamp: int, received_at: str
) -> None:
    """Keep ``line`` (verified by the caller) for the checkpoint, with the witness's time and ours (RFC 3339);
    one caller at a time (it reads, modifies and writes)."""
    key = size_key(checkpoint.size)
    doc = await store.get_record(COSIGNATURES, key) or {"size": checkpoint.size, "root": _b64(checkpoint.root)}
    if doc.get("root") != _b64(checkpoint.root):
        raise IntegrityError(f"cosignature record {key} is for another root than checkpoint {checkpoint.size}")
    lines: dict[str, Any] = dict(doc.get("lines") or {})
    lines[label] = {"line": line, "timestamp": timestamp, "received_at": received_at}
    await store.put_record(COSIGNATURES, key, {**doc, "lines": lines})


async def cosignature_lines(store: Storage, checkpoint: StoredCheckpoint) -> dict[str, str]:
    """The cosignature lines kept for ``checkpoint``, by witness label."""
    doc = await store.get_record(COSIGNATURES, size_key(checkpoint.size))
    if doc is None:
        return {}
    if doc.get("root") != _b64(checkpoint.root):
        raise IntegrityError(f"cosignature record {checkpoint.size} is for another root than the checkpoint")
    return {label: str(entry["line"]) for label, entry in sorted((doc.get("lines") or {}).items())}


async def cosigned_note(store: Storage, checkpoint: StoredCheckpoint) -> bytes:
    """The checkpoint note with one more signature line per witness that cosigned it (SPEC section 7);
    the note itself, as the log signed it, when none has yet."""
    lines = await cosignature_lines(store, checkpoint)
    return checkpoint.note + "".join(lines.values()).encode("utf-8")


async def record_evidence(
    store: Storage,
    *,
    recorded_at: str,
    witness: str,
    vkey: str,
    url: str,
    checkpoint: StoredCheckpoint,
    request_old: int,
    status: int,
    content_type: str,
    body: bytes,
    meaning: str,
) -> str:
    """Keep one piece of split-view evidence; returns its key."""
    key = f"{recorded_at} {witness}"
    await store.put_record(
        EVIDENCE,
        key,
        {
            "recorded_at": recorded_at,
            "witness": witness,
            "vkey": vkey,
            "url": url,
            "checkpoint": checkpoint.note.decode("utf-8"),
            "size": checkpoint.size,
            "old": request_old,
            "status": status,
            "content_type": content_type,
            "body": body[:MAX_EVIDENCE_BODY].decode("utf-8", "replace"),
            "meaning": meaning,
        },
    )
    return key


async def list_evidence(store: Storage, limit: int = 1000) -> list[dict[str, Any]]:
    return [doc for _, doc in await store.list_records(EVIDENCE, limit=limit)]
