"""``hrledger witness init|serve|show``: the witness a neutral party runs (SPEC sections 6 and 7, docs/witnesses.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from ledger.witness.datadir import init_witness_dir, load_witness_dir, read_log_keys
from ledger.witness.server import (
    DEFAULT_BURST,
    DEFAULT_RATE,
    RateLimiter,
    Witness,
    create_witness_app,
    forwarded_for,
    peer_address,
    run,
)
from ledger.witness.state import WitnessState


def cmd_init(args: argparse.Namespace) -> int:
    wdir = init_witness_dir(Path(args.data), args.name, os.urandom(32))
    cosigner = wdir.cosigner()

    async def bind() -> None:  # the state file, bound to this key from the start
        state = WitnessState(wdir.state_path)
        await state.open(cosigner.vkey)
        await state.close()

    asyncio.run(bind())
    print(f"created witness {cosigner.name} in {wdir.path} (key {wdir.key_path}, mode 0600)")
    print("give logs this cosignature verifier key (C2SP tlog-cosignature v1.0.1, type 0x04):")
    print(cosigner.vkey)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    wdir = load_witness_dir(Path(args.data))
    cosigner = wdir.cosigner()
    logs = read_log_keys(args.log, [Path(f) for f in args.logs])

    def ready(urls: list[str]) -> None:
        print(f"witness {cosigner.vkey}", flush=True)
        for keys in logs.values():
            for key in keys:
                print(f"  witnessing {key.text}", flush=True)
        for url in urls:
            print(f"hrledger witness serving on {url}", flush=True)

    async def main() -> None:
        state = WitnessState(wdir.state_path)
        await state.open(cosigner.vkey)
        try:
            witness = Witness(cosigner, logs, state)
            limiter = RateLimiter(rate=args.rate, burst=args.burst)
            client_key = forwarded_for if args.trust_forwarded_for else peer_address
            await run(create_witness_app(witness, limiter, client_key), args.host, args.port, ready=ready)
        finally:
            await state.close()

    asyncio.run(main())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    wdir = load_witness_dir(Path(args.data))
    cosigner = wdir.cosigner()

    async def main() -> None:
        state = WitnessState(wdir.state_path)
        await state.open(cosigner.vkey)
        try:
            print(cosigner.vkey)
            for record in await state.records():
                when = datetime.fromtimestamp(record.cosigned_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                refused = len(await state.refusals(record.origin))
                print(f"  {record.origin}: size {record.size}, cosigned {when}, {refused} refused request(s) kept")
        finally:
            await state.close()

    asyncio.run(main())
    return 0


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r}: give a rate above 0")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``hrledger witness ...`` under the main parser's subcommands."""
    p = sub.add_parser(
        "witness",
        help="run a witness that cosigns the checkpoints of logs it knows (C2SP tlog-witness v1.0.0)",
        description="A witness for a neutral party to run: it cosigns each checkpoint a log sends after checking "
        "that it is consistent with the last one it cosigned (docs/witnesses.md).",
    )
    wsub = p.add_subparsers(dest="witness_cmd", required=True)

    ip = wsub.add_parser("init", help="create the witness key and state; prints its cosignature verifier key")
    ip.add_argument("--data", required=True, help="witness directory (created, mode 0700)")
    ip.add_argument("--name", required=True, help="the witness name, a schema-less URL such as lawfirm.example/witness")
    ip.set_defaults(fn=cmd_init)

    sp = wsub.add_parser(
        "serve",
        help="serve POST /add-checkpoint over HTTP (put it behind a TLS reverse proxy)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sp.add_argument("--data", required=True, help="witness directory")
    sp.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sp.add_argument("--port", type=int, default=8081, help="port to listen on (0: any free port)")
    sp.add_argument("--log", action="append", default=[], metavar="VKEY", help="a log to witness, by its verifier key")
    sp.add_argument(
        "--logs", action="append", default=[], metavar="FILE", help="a file of log verifier keys, one a line"
    )
    sp.add_argument("--rate", type=_rate, default=DEFAULT_RATE, help="requests per second allowed per client")
    sp.add_argument("--burst", type=int, default=DEFAULT_BURST, help="requests a client may send at once")
    sp.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        help="rate-limit by the last X-Forwarded-For address (only behind a reverse proxy that sets it)",
    )
    sp.set_defaults(fn=cmd_serve)

    shp = wsub.add_parser("show", help="print the cosignature verifier key and the latest checkpoint of each log")
    shp.add_argument("--data", required=True, help="witness directory")
    shp.set_defaults(fn=cmd_show)
