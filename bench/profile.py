"""Shares of a py-spy profile (``py-spy record -f raw``): how much of the server's time goes where.

    .venv/bin/python -m bench.profile PROFILE.raw.txt [--root DIR]

A raw profile is one line per distinct stack, ``frame;frame;...;frame COUNT``, each frame
``function (file:line)``. A sample counts for a part when any frame of its stack belongs to it; the
projection is the follower/escalator catching up and what it calls (reading entries back, decoding
facts, indexing them), in any thread. SQLite reads run in worker threads, where the caller is not on the
stack: a frame inside ``scan_entries``'s own lines of ``ledger/storage/sqlite.py`` counts as the
projection's, since in the service the follower is what scans the log under ingest.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*):(?P<line>\d+)\)$")

#: (function name, file suffix) pairs that are the projection catching up
PROJECTION = {
    ("scan_entries", "sqlite.py"),
    ("scan_entries", "mongo.py"),
    ("entries", "log/__init__.py"),
    ("entries", "proofs.py"),
    ("iter_entries", "base.py"),
    ("fact_from_entry", "facts.py"),
    ("fact_from_entry", "projection.py"),
    ("add", "projection.py"),
    ("feed", "projection.py"),
    ("feed_all", "projection.py"),
    ("catch_up", "escalator.py"),
    ("catch_up", "follower.py"),
    ("_follow", "follower.py"),
    ("_apply_pending", "follower.py"),
    ("_committed", "follower.py"),
    ("_catch_up", "escalator.py"),
}
PARTS = {
    "middleware": ("middleware", "observe", "_handle_middleware"),
    "commit (sequencer)": ("_try_commit", "_commit", "_sequence_request", "_make_entry"),
    "sqlite write": ("append", "txn", "write"),
    "parsing and validation": ("parse_events", "validate_envelope", "validate_event", "decode_json"),
}


def _scan_lines(root: Path) -> range:
    """Line numbers of ``SQLiteStorage.scan_entries`` in the checkout at ``root``."""
    path = root / "ledger" / "storage" / "sqlite.py"
    if not path.exists():
        return range(0)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "scan_entries":
            return range(node.lineno, (node.end_lineno or node.lineno) + 1)
    return range(0)


def _frames(stack: str) -> list[tuple[str, str, int]]:
    out = []
    for text in stack.split(";"):
        m = FRAME.match(text.strip())
        if m:
            out.append((m["func"].split(".")[-1], m["file"], int(m["line"])))
    return out


def _is_projection(func: str, file: str) -> bool:
    return any(func == name and file.endswith(suffix) for name, suffix in PROJECTION)


def projection_share(raw: str, root: Path | None = None) -> dict[str, Any]:
    """The share of samples in the projection (and in a few other parts) of one raw profile."""
    scan = _scan_lines(root or Path(__file__).resolve().parent.parent)
    total = 0
    counts: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = _frames(stack)
        main_thread = stack.startswith("_run_module_as_main") or "run_forever" in stack
        threads["main" if main_thread else "workers"] += count
        in_projection = any(_is_projection(func, file) for func, file, _ in frames) or any(
            file.endswith("storage/sqlite.py") and line_no in scan for _, file, line_no in frames
        )
        if in_projection:
            counts["projection"] += count
        names = {func for func, _, _ in frames}
        for part, funcs in PARTS.items():
            if names & set(funcs):
                counts[part] += count
    shares = {part: round(counts[part] / total, 4) if total else 0.0 for part in ("projection", *PARTS)}
    return {"samples": total, "shares": shares, "threads": dict(threads)}


def main() -> None:
    """Print the shares of one profile as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--root", type=Path, help="the checkout that was profiled (for scan_entries' lines)")
    args = parser.parse_args()
    print(json.dumps(projection_share(args.profile.read_text(), args.root), indent=2))


if __name__ == "__main__":
    main()
