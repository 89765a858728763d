"""The witness's directory and the logs it witnesses.

``hrledger witness init --data DIR --name NAME`` makes::

    DIR/                   mode 0700
      witness.key          mode 0600: PRIVATE+KEY+<name>+<hex id>+base64(0x04 || seed), the cosigning key
      witness.sqlite3      the state (ledger.witness.state), bound to that key

The logs are given at ``serve`` time by their verifier keys (``--log VKEY``, or ``--logs FILE`` with one
key per line, ``#`` starting a comment). A log's origin is its key's name (SPEC section 1: key name =
origin); two keys of one name are both trusted for that origin (a key rotation).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ledger.core.cosignature import Cosigner
from ledger.core.notes import Verifier
from ledger.core.wire import parse_vkey
from ledger.errors import DataDirError, LedgerError, ValidationError

KEY_NAME = "witness.key"
STATE_NAME = "witness.sqlite3"


@dataclass(frozen=True)
class WitnessDir:
    path: Path

    @property
    def key_path(self) -> Path:
        return self.path / KEY_NAME

    @property
    def state_path(self) -> Path:
        return self.path / STATE_NAME

    def cosigner(self) -> Cosigner:
        """The cosigning key; refused when the file is readable by group or others."""
        try:
            mode = self.key_path.stat().st_mode
            text = self.key_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataDirError(f"cannot read the witness key {self.key_path}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise DataDirError(f"{self.key_path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        try:
            return Cosigner.from_skey(text)
        except ValidationError as exc:
            raise DataDirError(f"{self.key_path} is not a witness key: {exc}") from None


def init_witness_dir(path: Path, name: str, seed: bytes) -> WitnessDir:
    """A new witness directory with a new key (``seed``: 32 random bytes, e.g. ``os.urandom(32)``)."""
    cosigner = Cosigner(name, seed)  # a bad name fails before anything is written
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DataDirError(f"{path} exists and is not an empty directory; a witness keeps one key for good")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path / KEY_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise DataDirError(f"cannot create the witness key in {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(cosigner.skey + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return WitnessDir(path)


def load_witness_dir(path: Path) -> WitnessDir:
    if not (path / KEY_NAME).is_file():
        raise DataDirError(
            f"{path} is not a witness directory (no {KEY_NAME}); create one with: "
            f"hrledger witness init --data {path} --name NAME"
        )
    return WitnessDir(path)


def read_log_keys(vkeys: Iterable[str], files: Iterable[Path] = ()) -> dict[str, tuple[Verifier, ...]]:
    """The witnessed logs by origin, from verifier keys and files of them; at least one is required."""
    given = [(f"--log {text}", text) for text in vkeys]
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise DataDirError(f"cannot read the log list {file}: {exc.strerror}") from None
        for n, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if text:
                given.append((f"{file}:{n}", text))
    logs: dict[str, list[Verifier]] = {}
    for where, text in given:
        try:
            key = parse_vkey(text)
        except LedgerError as exc:
            raise ValidationError("log", f"{where}: not a log verifier key: {exc}") from None
        known = logs.setdefault(key.name, [])
        if all(k.public_key != key.public_key for k in known):
            known.append(key)
    if not logs:
        raise ValidationError("log", "name at least one log to witness, with --log VKEY or --logs FILE")
    return {origin: tuple(keys) for origin, keys in logs.items()}
