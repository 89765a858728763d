"""``hrledger-verify BUNDLE --vkey VKEY [--witness VKEY ...] [--witness-threshold K] [--tsa-root PEM]
[--receipt FILE ...] [--json] [--html FILE]``.

Exit status: 0 when every check holds and the record is shown complete; 1 when anything fails or
completeness cannot be shown (each reason listed; a damaged or hostile zip is such a failure); 2 on a
usage error (bad arguments, a file that cannot be read). Never a traceback: an unexpected fault is
reported as one and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from verifier.check import verify_bundle
from verifier.cosignature import WitnessKey, parse_witness_vkey
from verifier.note import NoteError, parse_vkey
from verifier.receipts import ReceiptFile
from verifier.report import render_html, render_text
from verifier.text import shown

MAX_RECEIPT = 1024 * 1024


class UsageError(Exception):
    """The command line cannot be acted on (exit status 2)."""


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


def _read(path: Path, what: str, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit} bytes")
    return data


def _receipts(paths: list[str]) -> list[ReceiptFile]:
    """Each receipt, with the RFC 3161 token over its checkpoint when ``<receipt>.tsr`` lies beside it."""
    out = []
    for text in paths:
        path = Path(text)
        token_path = path.with_name(path.name + ".tsr")
        token = _read(token_path, "timestamp", MAX_RECEIPT) if token_path.is_file() else None
        out.append(ReceiptFile(path.name, _read(path, "--receipt", MAX_RECEIPT), token))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hrledger-verify", description="Verify an hrledger evidence bundle offline (docs/verifying.md)."
    )
    parser.add_argument("bundle", help="the bundle zip")
    parser.add_argument(
        "--vkey", required=True, help="the log's verifier key <name>+<id>+<key>, obtained independently"
    )
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
    parser.add_argument(
        "--receipt",
        action="append",
        default=[],
        metavar="FILE",
        help="a tlog-proof receipt held by the other side (its entry in the extra line); repeatable",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable result")
    parser.add_argument("--html", metavar="FILE", help="also write a printable A4 report of the verified facts")
    return parser


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        try:
            vkey = parse_vkey(args.vkey)
        except NoteError as exc:
            raise UsageError(f"bad --vkey: {str(exc).removeprefix('vkey: ')}") from None
        witnesses = _witnesses(args.witness, args.witness_threshold)
        roots = _load_roots(args.tsa_root) if args.tsa_root else None
        receipts = _receipts(args.receipt)
        bundle = Path(args.bundle)
        if not bundle.is_file():
            raise UsageError(f"cannot read {args.bundle}: no such file")
        result = verify_bundle(
            bundle,
            vkey,
            tsa_roots=roots,
            receipts=receipts,
            name=bundle.name,
            witnesses=witnesses,
            witness_threshold=args.witness_threshold,
        )
        if args.html:
            try:
                Path(args.html).write_text(render_html(result), encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {args.html}: {exc.strerror}") from None
    except UsageError as exc:
        print(f"hrledger-verify: {shown(exc)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=True, indent=2))  # ASCII: no raw control or bidi text
    else:
        sys.stdout.write(render_text(result))
    return 0 if result.ok else 1


def main() -> None:
    try:
        code = run()
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # a verifier bug must not look like a verdict: say so, exit 1, no traceback
        print(
            f"hrledger-verify: internal error, the bundle is NOT verified: {type(exc).__name__}: {shown(exc)}",
            file=sys.stderr,
        )
        code = 1
    sys.exit(code)
