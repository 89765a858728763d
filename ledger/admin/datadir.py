"""The data directory: configuration, signing key and (by default) the SQLite store.

``DIR/hrledger.json`` marks a directory as ours; ``DIR/signing.key`` holds the Go-style private key
string (mode 0600), unless the configuration names a key file elsewhere (a secret mounted on each service
host); ``DIR/ledger.sqlite3`` is the embedded store unless a MongoDB URI is configured. The key is never
written to the store.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.core.entries import format_recorded_at
from ledger.core.notes import Signer, origin_problem
from ledger.errors import DataDirError, ValidationError
from ledger.services.tokens import create_token
from ledger.storage.base import Storage

CONFIG_NAME = "hrledger.json"
KEY_NAME = "signing.key"
SQLITE_NAME = "ledger.sqlite3"
FORMAT = "hrledger-data/1"


@dataclass(frozen=True)
class DataDir:
    path: Path
    origin: str
    store_uri: str
    key_file: str | None = None  # the configured key path; None: DIR/signing.key

    @property
    def key_path(self) -> Path:
        return _resolve(self.key_file, self.path) if self.key_file else self.path / KEY_NAME

    def signer(self) -> Signer:
        signer = read_key(self.key_path)
        if signer.name != self.origin:
            raise DataDirError(f"the signing key is for {signer.name!r}, the log's origin is {self.origin!r}")
        return signer

    def open_store(self, override_uri: str | None = None) -> Storage:
        return open_store(override_uri or self.store_uri, self.path)


def _resolve(path: str | Path, base: Path) -> Path:
    target = Path(path).expanduser()
    return target if target.is_absolute() else base / target


def read_key(path: Path) -> Signer:
    """The signing key at ``path``; refused when the file is readable by group or others."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DataDirError(f"cannot read the signing key {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DataDirError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
    try:
        return Signer.from_skey(text)
    except ValidationError as exc:
        raise DataDirError(f"{path} is not an hrledger signing key: {exc}") from None


def open_store(uri: str, base: Path) -> Storage:
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        from ledger.storage.mongo import MongoStorage

        mongo: Storage = MongoStorage(uri)
        return mongo
    if uri.startswith("sqlite:"):
        from ledger.storage.sqlite import SQLiteStorage

        target = Path(uri.removeprefix("sqlite:"))
        return SQLiteStorage(target if target.is_absolute() else base / target)
    raise DataDirError(f"unknown store {uri!r}: use sqlite:PATH or mongodb://HOST:PORT/DB")


def default_origin() -> str:
    return f"hrledger.local/{secrets.token_hex(4)}"


def init_datadir(
    path: Path, *, origin: str | None = None, store_uri: str | None = None, key_file: str | Path | None = None
) -> DataDir:
    """A new data directory. ``key_file`` keeps the key outside it (a relative path is taken from the
    current directory; the configuration records it absolute): an existing key there is adopted (the
    origin is the key's name; this is how a second service host joins a MongoDB log), a missing one is
    created. Without it a new key is written to ``DIR/signing.key``. On failure nothing it made is left."""
    if (path / CONFIG_NAME).exists():
        raise DataDirError(f"{path} already holds a ledger; refusing to overwrite it")
    if path.exists() and any(path.iterdir()):
        raise DataDirError(f"{path} is not empty and not a ledger; choose an empty or new directory")
    made = new_datadir_plan(path, key_file)
    key_path = made.key_path
    signer = read_key(key_path) if made.key_existed else None
    if signer is not None and origin is not None and origin != signer.name:
        raise DataDirError(f"the key {key_path} is for {signer.name!r}, not the origin {origin!r}")
    origin = signer.name if signer else origin or default_origin()
    if problem := origin_problem(origin):
        raise DataDirError(f"origin {origin!r}: {problem}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)  # personal data and token hashes: the owner's only
        if signer is None:
            _write_new_key(key_path, Signer.generate(origin, os.urandom(32)))
        config = {"format": FORMAT, "origin": origin, "store": store_uri or f"sqlite:{SQLITE_NAME}"}
        if key_file:
            config["key"] = str(key_path)
        fd = os.open(path / CONFIG_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(config, indent=2) + "\n")
    except BaseException:
        made.remove()
        raise
    return load_datadir(path)


@dataclass(frozen=True)
class NewDataDir:
    """What ``init`` is about to make, so that a failed init can take exactly that back."""

    path: Path
    dir_existed: bool  # (and was empty: init refuses anything else)
    key_path: Path
    key_existed: bool  # an adopted key is never removed

    def remove(self) -> None:
        if not self.key_existed:
            self.key_path.unlink(missing_ok=True)
        if self.path.is_dir():
            for child in self.path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            if not self.dir_existed:
                self.path.rmdir()


def new_datadir_plan(path: Path, key_file: str | Path | None) -> NewDataDir:
    """Before ``init_datadir``: what it will make, as ``NewDataDir`` (for a caller's own later checks)."""
    key_path = Path(key_file).expanduser().absolute() if key_file else path / KEY_NAME
    return NewDataDir(
        path, dir_existed=path.exists(), key_path=key_path, key_existed=bool(key_file) and key_path.exists()
    )


def _write_new_key(path: Path, signer: Signer) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise DataDirError(f"cannot create the signing key {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(signer.skey + "\n")


def load_datadir(path: Path) -> DataDir:
    if not path.is_dir():
        raise DataDirError(f"{path} does not exist; create a ledger with: hrledger init --data {path}")
    _private_dir(path)
    config_path = path / CONFIG_NAME
    if not config_path.is_file():
        raise DataDirError(
            f"{path} is not an hrledger data directory (no {CONFIG_NAME}); create one with: hrledger init --data DIR"
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataDirError(f"{config_path} is unreadable: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise DataDirError(f"{config_path} is not an {FORMAT} configuration")
    origin, store, key = config.get("origin"), config.get("store"), config.get("key")
    if not isinstance(origin, str) or not isinstance(store, str):
        raise DataDirError(f"{config_path} lacks origin or store")
    if key is not None and (not isinstance(key, str) or not key):
        raise DataDirError(f"{config_path}: key must be the path of the signing key file")
    return DataDir(path=path, origin=origin, store_uri=store, key_file=key)


def _private_dir(path: Path) -> None:
    """A ledger made before the directory was private (0755) is made private (0700) when we own it."""
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            path.chmod(0o700)
    except OSError:
        pass  # not ours to change: the files inside are still 0600


def bootstrap(data_dir: Path | str) -> str | None:
    """First start: create the ledger and an admin token and return the token (shown once); else None."""
    path = Path(data_dir)
    if path.exists():
        return None
    datadir = init_datadir(path)
    return asyncio.run(_first_admin(datadir.open_store()))


async def _first_admin(store: Storage) -> str:
    await store.open()
    try:
        token, _ = await create_token(
            store,
            role="admin",
            name="first-admin",
            created_at=format_recorded_at(datetime.now(UTC)),
            secret=os.urandom(32),
        )
    finally:
        await store.close()
    return token
