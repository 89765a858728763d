"""``hrledger-verify BUNDLE --vkey VKEY [--witness VKEY ...] [--witness-threshold K] [--tsa-root PEM] [--json]
[--html FILE]``.

Exit status: 0 when every check holds, 1 when anything fails (each failure listed), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from verifier.archive import UsageError
from verifier.check import verify_bundle
from verifier.cosignature import WitnessKey, parse_witness_vkey
from verifier.note import NoteError, parse_vkey
from verifier.report import render_html, render_text


def _load_roots(path: str) -> list[Any]:
    """Trusted TSA root certificates (PEM); rfc3161-client and cryptography are needed only here."""
    try:
        import rfc3161_client  # noqa: F401  (imported here only to fail early when it is missing)
        from cryptography.x509 import load_pem_x509_certificates
    except ImportError:
        raise UsageError("--tsa-root needs the rfc3161-client package (pip install rfc3161-client)") from None
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read --tsa-root {path}: {exc.strerror}") from None
    try:
        return list(load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise UsageError(f"--tsa-root {path} holds no PEM certificate: {exc}") from None


def _witnesses(vkeys: list[str], threshold: int | None) -> list[WitnessKey]:
    keys: list[WitnessKey] = []
    for text in vkeys:
        try:
            key = parse_witness_vkey(text)
        except NoteError as exc:
            raise UsageError(f"bad --witness {text!r}: {exc}") from None
        if key in keys:
            raise UsageError(f"--witness {key.label} is named twice")
        keys.append(key)
    if threshold is not None and not 0 <= threshold <= len(keys):
        raise UsageError(
            f"--witness-threshold {threshold} cannot be met by the {len(keys)} witness(es) named with --witness"
        )
    return keys


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hrledger-verify", description="Verify an hrledger evidence bundle offline (docs/verifying.md)."
    )
    parser.add_argument("bundle", help="the bundle zip")
    parser.add_argument("--vkey", required=True, help="the log's verifier key <name>+<id>+<key>")
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness whose cosignature counts, by its verifier key <name>+<id>+<base64(0x04 || key)>; repeatable",
    )
    parser.add_argument(
        "--witness-threshold",
        type=int,
        metavar="K",
        help="how many of the named witnesses must have cosigned the checkpoint (default: all named)",
    )
    parser.add_argument("--tsa-root", help="PEM file of trusted RFC 3161 TSA root certificate(s)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable result")
    parser.add_argument("--html", metavar="FILE", help="also write a printable A4 report")
    args = parser.parse_args(argv)
    try:
        vkey = parse_vkey(args.vkey)
    except NoteError as exc:
        print(f"hrledger-verify: bad --vkey: {exc}", file=sys.stderr)
        return 2
    try:
        witnesses = _witnesses(args.witness, args.witness_threshold)
    except UsageError as exc:
        print(f"hrledger-verify: {exc}", file=sys.stderr)
        return 2
    try:
        roots = _load_roots(args.tsa_root) if args.tsa_root else None
        try:
            data = Path(args.bundle).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {args.bundle}: {exc.strerror}") from None
        result = verify_bundle(
            data,
            vkey,
            tsa_roots=roots,
            name=Path(args.bundle).name,
            witnesses=witnesses,
            witness_threshold=args.witness_threshold,
        )
    except UsageError as exc:
        print(f"hrledger-verify: {exc}", file=sys.stderr)
        return 2
    if args.html:
        try:
            Path(args.html).write_text(render_html(result), encoding="utf-8")
        except OSError as exc:
            print(f"hrledger-verify: cannot write {args.html}: {exc.strerror}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render_text(result))
    return 0 if result.ok else 1


def main() -> None:
    sys.exit(run())
