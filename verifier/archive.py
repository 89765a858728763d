"""Step 1: reading the zip and checking the manifest; also the in-memory Bundle the other steps share."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from verifier.jcs import load_json
from verifier.note import Checkpoint
from verifier.result import Fact, Result

FORMAT = "hrledger-bundle/1"
MAX_FILE = 64 * 1024 * 1024


class UsageError(Exception):
    """The input cannot be read at all (exit code 2)."""


@dataclass
class Bundle:
    files: dict[str, bytes]
    manifest: dict[str, Any] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    leaves: dict[int, dict[str, Any]] = field(default_factory=dict)  # parsed leaf per seq
    leaf_hashes: dict[int, bytes] = field(default_factory=dict)
    checkpoints: dict[int, bytes] = field(default_factory=dict)  # verified notes by size, for step 7
    facts: dict[int, Fact] = field(default_factory=dict)


def read_zip(data: bytes) -> tuple[dict[str, bytes], list[str]]:
    """The bundle's files and the problems of the archive itself (duplicates, oversized files)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"not a readable zip archive: {exc}") from None
    files: dict[str, bytes] = {}
    problems: list[str] = []
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if info.filename in files:
                problems.append(f"{info.filename} appears twice in the archive")
                continue
            if info.file_size > MAX_FILE:
                problems.append(f"{info.filename} is larger than {MAX_FILE} bytes")
                continue
            try:
                files[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
                problems.append(f"{info.filename} cannot be read from the archive: {exc}")
    return files, problems


def late_hours(manifest: dict[str, Any]) -> float | None:
    """The late-recorded threshold the case used (``late_recorded_hours``), or None when it is not a positive number."""
    value = manifest.get("late_recorded_hours")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 24 * 366:
        return float(value)
    return None


def int_list(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(type(v) is int and v >= 0 for v in value):
        return list(value)
    return None


def step1_manifest(b: Bundle, r: Result, zip_problems: list[str]) -> None:
    for p in zip_problems:
        r.fail(1, p)
    raw = b.files.get("manifest.json")
    if raw is None:
        r.fail(1, "manifest.json is missing")
        return
    try:
        m = load_json(raw)
    except ValueError as exc:
        r.fail(1, f"manifest.json is not valid JSON: {exc}")
        return
    if not isinstance(m, dict):
        r.fail(1, "manifest.json is not a JSON object")
        return
    b.manifest = m
    if m.get("format") != FORMAT:
        r.fail(1, f"manifest.json: format is {m.get('format')!r}, expected {FORMAT!r}")
    for key in ("origin", "vkey", "subject"):
        if not isinstance(m.get(key), str):
            r.fail(1, f"manifest.json: {key} is missing or not a string")
    period = m.get("period")
    if not (isinstance(period, dict) and all(isinstance(period.get(k), str) for k in ("from", "to", "time_zone"))):
        r.fail(1, 'manifest.json: period must be {"from", "to", "time_zone"}')
    if late_hours(m) is None:
        r.fail(1, "manifest.json: late_recorded_hours must be a positive number of hours")
    if type(m.get("tree_size")) is not int:
        r.fail(1, "manifest.json: tree_size is missing or not an integer")
    for key in ("subject_seqs", "context_seqs"):
        if int_list(m.get(key)) is None:
            r.fail(1, f"manifest.json: {key} must be a list of non-negative integers")
    listed = m.get("files")
    if not isinstance(listed, dict) or not all(isinstance(v, str) for v in listed.values()):
        r.fail(1, "manifest.json: files must map each file name to its SHA-256 (hex)")
        return
    for name in sorted(b.files):
        if name != "manifest.json" and name not in listed:
            r.fail(1, f"{name} is in the bundle but not listed in manifest.json")
    for name in sorted(listed):
        if name not in b.files:
            r.fail(1, f"{name} is listed in manifest.json but missing from the bundle")
            continue
        got = hashlib.sha256(b.files[name]).hexdigest()
        if got != listed[name]:
            r.fail(1, f"{name}: SHA-256 is {got}, manifest.json says {listed[name]}")
    r.note(1, f"{len(listed)} files listed")
