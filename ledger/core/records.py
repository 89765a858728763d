"""The records the log stores: an entry with its leaf, data and salt, and a published checkpoint.

Plain data shared by the storage drivers, the log, the projections and the tools; no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A committed entry as stored: its leaf and hash, and its data and salt until erased."""

    seq: int
    event_id: str
    type: str
    subject: str
    occurred_at: str
    recorded_at: str
    entry: bytes  # the exact leaf bytes (RFC 8785 JSON)
    leaf_hash: bytes
    data: bytes | None  # canonical JSON of ``data``; None once erased
    salt: bytes | None  # None once erased


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A published checkpoint as stored: size, root, the signed note verbatim, when."""

    size: int
    root: bytes
    note: bytes  # the signed note, verbatim
    published_at: str
