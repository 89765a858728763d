"""The data directory: configuration, signing key and (by default) the SQLite store.

``DIR/hrledger.json`` marks a directory as ours; ``DIR/signing.key`` holds the Go-style private key
string (mode 0600); ``DIR/ledger.sqlite3`` is the embedded store unless a MongoDB URI is configured.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import DataDirError
from ledger.notes import Signer, key_name_problem
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

    @property
    def key_path(self) -> Path:
        return self.path / KEY_NAME

    def signer(self) -> Signer:
        try:
            mode = self.key_path.stat().st_mode
            text = self.key_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DataDirError(f"cannot read the signing key {self.key_path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise DataDirError(f"{self.key_path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        signer = Signer.from_skey(text)
        if signer.name != self.origin:
            raise DataDirError(f"the signing key is for {signer.name!r}, the log's origin is {self.origin!r}")
        return signer

    def open_store(self, override_uri: str | None = None) -> Storage:
        return open_store(override_uri or self.store_uri, self.path)


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


def init_datadir(path: Path, *, origin: str | None = None, store_uri: str | None = None) -> DataDir:
    origin = origin or default_origin()
    if problem := key_name_problem(origin):
        raise DataDirError(f"origin {origin!r}: {problem}")
    if (path / CONFIG_NAME).exists():
        raise DataDirError(f"{path} already holds a ledger; refusing to overwrite it")
    if path.exists() and any(path.iterdir()):
        raise DataDirError(f"{path} is not empty and not a ledger; choose an empty or new directory")
    path.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(origin, os.urandom(32))
    fd = os.open(path / KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(signer.skey + "\n")
    config = {"format": FORMAT, "origin": origin, "store": store_uri or f"sqlite:{SQLITE_NAME}"}
    (path / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return load_datadir(path)


def load_datadir(path: Path) -> DataDir:
    if not path.is_dir():
        raise DataDirError(f"{path} does not exist; create a ledger with: hrledger init --data {path}")
    config_path = path / CONFIG_NAME
    if not config_path.is_file():
        raise DataDirError(f"{path} is not an hrledger data directory (no {CONFIG_NAME}); "
                           f"create one with: hrledger init --data DIR")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataDirError(f"{config_path} is unreadable: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise DataDirError(f"{config_path} is not an {FORMAT} configuration")
    origin, store = config.get("origin"), config.get("store")
    if not isinstance(origin, str) or not isinstance(store, str):
        raise DataDirError(f"{config_path} lacks origin or store")
    return DataDir(path=path, origin=origin, store_uri=store)
