"""verifier.pyz: the standalone verifier as one zipapp file, stored in every bundle (SPEC section 5).

``python3 verifier.pyz BUNDLE --vkey VKEY`` runs ``hrledger-verify`` with nothing but Python and PyNaCl.
The archive is built from the installed ``verifier`` package byte for byte the same way every time (sorted
names, fixed dates, stored uncompressed, so no zlib version changes it), so its SHA-256 can be published
in the release notes (README, "Verifier") and compared by a court expert:

    python -m ledger.services.verifier_app     # prints the SHA-256 of this version's verifier.pyz
"""

from __future__ import annotations

import functools
import hashlib
import io
import zipfile
from pathlib import Path

import verifier

SHEBANG = b"#!/usr/bin/env python3\n"
MAIN = b'"""hrledger-verify, from verifier.pyz."""\n\nfrom verifier.cli import main\n\nmain()\n'
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _member(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system, info.external_attr = 3, 0o644 << 16
    zf.writestr(info, data, compress_type=zipfile.ZIP_STORED)


@functools.cache
def verifier_pyz() -> bytes:
    """The zipapp of the ``verifier`` package this process runs (read once)."""
    package = Path(verifier.__file__).parent
    buf = io.BytesIO()
    buf.write(SHEBANG)
    with zipfile.ZipFile(buf, "a") as zf:
        _member(zf, "__main__.py", MAIN)
        for path in sorted(package.glob("*.py")):
            _member(zf, f"verifier/{path.name}", path.read_bytes())
    return buf.getvalue()


def verifier_pyz_sha256() -> str:
    return hashlib.sha256(verifier_pyz()).hexdigest()


if __name__ == "__main__":
    print(f"{verifier_pyz_sha256()}  verifier.pyz")
