"""The rules of the house (docs/architecture.md), read from the source with ``ast``: which room may import
which, and that the pure rooms do no I/O. Each rule has a test that breaks it on purpose."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: room -> the rooms it may import (every room may import itself and the standard library)
ALLOWED: dict[str, frozenset[str]] = {
    "verifier": frozenset(),
    "ledger.errors": frozenset(),
    "ledger.core": frozenset({"ledger.errors", "verifier"}),
    "ledger.domain": frozenset({"ledger.errors", "ledger.core"}),
    "ledger.storage": frozenset({"ledger.errors", "ledger.core"}),
    "ledger.log": frozenset({"ledger.errors", "ledger.core", "ledger.storage"}),
    "ledger.services": frozenset({"ledger.errors", "ledger.core", "ledger.domain", "ledger.storage", "ledger.log"}),
    "ledger.witness": frozenset({"ledger.errors", "ledger.core", "verifier"}),
    "ledger.admin": frozenset(
        {
            "ledger.errors",
            "ledger.core",
            "ledger.domain",
            "ledger.storage",
            "ledger.log",
            "ledger.services",
            "ledger.witness",
            "verifier",
        }
    ),
    "api": frozenset(
        {
            "ledger.errors",
            "ledger.core",
            "ledger.domain",
            "ledger.log",
            "ledger.services",
            "ledger.admin",
        }
    ),
}
#: (module, room) imports allowed beyond the table, each for a reason
EXCEPTIONS = {
    ("ledger.admin.commands", "api"): "hrledger serve is the one entry point of the service",
    ("ledger.services.verifier_app", "verifier"): "packages the verifier's own files as verifier.pyz",
    ("api.contexts", "ledger.storage"): "the one api module that opens the store (handlers use the log and services)",
    ("api.config", "ledger.storage"): "the type of the STORE key, set by api.contexts",
}
#: third-party packages each room may use; anything else there must be added here on purpose
THIRD_PARTY: dict[str, frozenset[str]] = {
    "verifier": frozenset({"nacl", "rfc3161_client", "cryptography"}),
    "ledger.errors": frozenset(),
    "ledger.core": frozenset({"nacl"}),
    "ledger.domain": frozenset({"chinese_calendar"}),
    "ledger.witness": frozenset({"aiohttp", "nacl"}),  # a small program for a neutral party to run and read
}
#: standard-library modules that do I/O, keep time or draw randomness: never in a pure room
IO_MODULES = frozenset(
    {
        "aiohttp",
        "asyncio",
        "concurrent",
        "http",
        "logging",
        "os",
        "pathlib",
        "pymongo",
        "random",
        "secrets",
        "shutil",
        "smtplib",
        "socket",
        "sqlite3",
        "ssl",
        "subprocess",
        "sys",
        "tempfile",
        "threading",
        "time",
        "urllib",
    }
)
PURE_ROOMS = ("ledger.core", "ledger.domain", "ledger.errors")
#: calls that read the clock or the file system
IO_CALLS = frozenset({"now", "utcnow", "today", "open", "read_text", "read_bytes", "write_text", "write_bytes"})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted
    line: int


def room_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "ledger" and len(parts) > 1:
        return "ledger.errors" if parts[1] == "errors" else f"ledger.{parts[1]}"
    return parts[0]


def modules(root: Path = ROOT) -> Iterator[tuple[str, ast.Module]]:
    for package in ("ledger", "api", "verifier"):
        for path in sorted((root / package).rglob("*.py")):
            dotted = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            if dotted == "ledger":
                continue  # the package root holds nothing
            yield dotted, ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports(module: str, tree: ast.Module) -> Iterator[Import]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
            yield Import(module, node.module, node.lineno)


def room_violations(found: list[tuple[str, ast.Module]]) -> list[str]:
    ours = ("ledger", "api", "verifier")
    problems = []
    for module, tree in found:
        room = room_of(module)
        for imp in imports(module, tree):
            target_room = room_of(imp.target)
            if imp.target.split(".")[0] in ours:
                if target_room == room or target_room in ALLOWED[room]:
                    continue
                if (module, target_room) in EXCEPTIONS:
                    continue
                problems.append(f"{module}:{imp.line} imports {imp.target}: {room} may not import {target_room}")
            elif room in THIRD_PARTY:
                top = imp.target.split(".")[0]
                if top in IO_MODULES and room in PURE_ROOMS:
                    problems.append(
                        f"{module}:{imp.line} imports {imp.target}: {room} is pure (no I/O, clock, randomness)"
                    )
                elif top not in THIRD_PARTY[room] and not _stdlib(top):
                    problems.append(f"{module}:{imp.line} imports {imp.target}: not a dependency {room} may use")
    return problems


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names


def io_call_violations(found: list[tuple[str, ast.Module]]) -> list[str]:
    problems = []
    for module, tree in found:
        if room_of(module) not in PURE_ROOMS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name in IO_CALLS:
                    problems.append(f"{module}:{node.lineno} calls {name}(): {room_of(module)} is pure")
    return problems


def test_every_module_is_in_a_room() -> None:
    rooms = {room_of(m) for m, _ in modules()}
    assert rooms <= set(ALLOWED), rooms - set(ALLOWED)


def test_rooms_import_only_what_the_house_allows() -> None:
    assert room_violations(list(modules())) == []


def test_pure_rooms_do_no_io() -> None:
    assert io_call_violations(list(modules())) == []


# -- the rules fail when broken --------------------------------------------------------------------


def _one(module: str, source: str) -> list[tuple[str, ast.Module]]:
    return [(module, ast.parse(source))]


@pytest.mark.parametrize(
    ("module", "source", "words"),
    [
        ("verifier.check", "from ledger.core import merkle", "verifier may not import ledger.core"),
        ("verifier.check", "import api.app", "verifier may not import api"),
        ("ledger.core.merkle", "import sqlite3", "ledger.core is pure"),
        ("ledger.domain.episodes", "from asyncio import sleep", "ledger.domain is pure"),
        ("ledger.domain.episodes", "from ledger.storage.base import Storage", "ledger.domain may not import"),
        ("ledger.domain.episodes", "import aiohttp", "ledger.domain is pure"),
        ("ledger.core.entries", "import requests", "not a dependency ledger.core may use"),
        ("ledger.log", "from ledger.services import escalator", "ledger.log may not import ledger.services"),
        ("ledger.storage.sqlite", "from ledger.domain import Policy", "ledger.storage may not import ledger.domain"),
        ("api.events", "from verifier import note", "api may not import verifier"),
        ("api.reads", "from ledger.storage.base import Storage", "api may not import ledger.storage"),
        ("ledger.witness.server", "from ledger.log import Log", "ledger.witness may not import ledger.log"),
        ("ledger.witness.server", "import pymongo", "not a dependency ledger.witness may use"),
    ],
)
def test_a_broken_room_rule_is_named(module: str, source: str, words: str) -> None:
    problems = room_violations(_one(module, source))
    assert len(problems) == 1 and words in problems[0], problems


@pytest.mark.parametrize("source", ["datetime.now(UTC)", "date.today()", "open('x')", "Path('x').read_text()"])
def test_a_clock_or_file_read_in_a_pure_room_is_named(source: str) -> None:
    assert len(io_call_violations(_one("ledger.domain.episodes", source))) == 1
    assert io_call_violations(_one("ledger.services.escalator", source)) == []
