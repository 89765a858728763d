"""The reference vectors (RFC 9162 roots and proofs for trees of 1 to 33 leaves, C2SP signed notes), produced by
an independent implementation and kept as data in ``tests/vectors/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "tlog-vectors.json"


def load_vectors() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return doc
