"""The ``hrledger`` command line (SPEC section 6)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from ledger.admin.datadir import DataDir, init_datadir, load_datadir, new_datadir_plan
from ledger.errors import DataDirError, LedgerError, ValidationError
from ledger.log import Log
from ledger.services.identity import claim_store
from ledger.services.tokens import ROLES
from ledger.storage.base import Storage

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


async def _with_store(datadir: DataDir, store_uri: str | None, fn: Callable[[Storage], Awaitable[T]]) -> T:
    store = datadir.open_store(store_uri)
    try:
        await store.open()
        return await fn(store)
    finally:
        await store.close()


def _admin_term(store: Storage) -> Callable[[], int]:
    """The term the CLI's few appends (erase) commit with. On MongoDB it joins the current one, the
    highest the store has shown it: the head's compare-and-set on size and gen serialises these appends
    with the sequencer's, and a stale term is refused, re-read and retried. The lease exists so that one
    *service* sequences at a time; an operator's single append need not stop the services."""
    from ledger.storage.mongo import MongoStorage

    if isinstance(store, MongoStorage):
        return lambda: store.observed_term
    return lambda: 0


async def _with_log(datadir: DataDir, store_uri: str | None, fn: Callable[[Log], Awaitable[T]]) -> T:
    async def run(store: Storage) -> T:
        log = Log(store, datadir.signer(), clock=_now, random_bytes=os.urandom, term=_admin_term(store))
        await log.start()
        try:
            return await fn(log)
        finally:
            await log.stop()

    return await _with_store(datadir, store_uri, run)


def cmd_init(args: argparse.Namespace) -> int:
    plan = new_datadir_plan(Path(args.data), args.key)
    datadir = init_datadir(plan.path, origin=args.origin, store_uri=args.store, key_file=args.key)
    try:
        claim = asyncio.run(_with_store(datadir, None, lambda store: claim_store(store, datadir.signer())))
    except LedgerError:
        plan.remove()  # the directory was new or empty, and a key we created signs nothing
        raise
    if claim.created:
        print(f"created ledger {datadir.origin} in {datadir.path}")
    else:
        print(
            f"joined the existing log {datadir.origin} ({claim.size} entries, and the store is this key's "
            f"log) in {datadir.path}"
        )
    print(f"verifier key: {datadir.signer().vkey}")
    return 0


def cmd_key_show(args: argparse.Namespace) -> int:
    print(load_datadir(Path(args.data)).signer().vkey)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from ledger.services import tokens

    datadir = load_datadir(Path(args.data))

    async def run(store: Storage) -> int:
        if args.token_cmd == "create":
            token, info = await tokens.create_token(
                store, role=args.role, name=args.name, created_at=_now().isoformat(), secret=os.urandom(32)
            )
            print(f"created {info.role} token {info.token_id} ({info.name}); it is shown only once:")
            print(token)
        elif args.token_cmd == "list":
            for info in await tokens.list_tokens(store):
                state = "revoked" if info.revoked else "active"
                print(f"{info.token_id}  {info.role:<8} {state:<8} {info.created_at}  {info.name}")
        else:
            for info in await tokens.revoke_token(store, args.token):
                print(f"revoked {info.token_id} ({info.name}, {info.role})")
        return 0

    return asyncio.run(_with_store(datadir, args.store, run))


def cmd_user(args: argparse.Namespace) -> int:
    from ledger.admin import users_cli

    datadir = load_datadir(Path(args.data))
    password = users_cli.read_password(args) if args.user_cmd == "create" else None
    return asyncio.run(_with_store(datadir, args.store, lambda s: users_cli.run(args, s, password, _now().isoformat())))


def cmd_fsck(args: argparse.Namespace) -> int:
    from ledger.admin.fsck import fsck

    datadir = load_datadir(Path(args.data))
    verifier = datadir.signer().verifier()
    report = asyncio.run(_with_store(datadir, args.store, lambda store: fsck(store, verifier)))
    for problem in report.problems:
        print(f"fsck: {problem}", file=sys.stderr)
    state = "ok" if report.ok else f"FAILED ({len(report.problems)} problems)"
    print(f"fsck {state}: {report.entries} entries, {report.nodes} tree nodes, {report.checkpoints} checkpoints")
    return 0 if report.ok else 1


def cmd_erase(args: argparse.Namespace) -> int:
    from ledger.admin.erase import erase_subject, open_cases

    datadir = load_datadir(Path(args.data))
    policy = _policy(args.policy)

    async def run(log: Log) -> int:
        cases = await open_cases(log, args.subject, _now(), policy)
        listed = "; ".join(
            f"{c['case_id']} (stage {c['stage'] or 'none yet'}, {c['overdue_days']} overdue working days)"
            for c in cases
        )
        if cases and not args.yes:
            print(
                f"hrledger: {args.subject} has {len(cases)} open case(s): {listed}. Erasing the personal data "
                "closes them for good: their leave and contact facts lose their data, so nothing escalates any "
                "more and no readiness can be shown. Run again with --yes to erase anyway.",
                file=sys.stderr,
            )
            return 1
        result = await erase_subject(log, args.subject, now=_now())
        if result.record_seq is None:
            print(f"nothing to erase for {args.subject}")
        else:
            print(f"erased data of {len(result.seqs)} entries of {args.subject}; recorded as seq {result.record_seq}")
        if result.deliveries_scrubbed:
            print(f"removed the name from {result.deliveries_scrubbed} notification delivery record(s)")
        if cases and result.record_seq is not None:
            print(f"closed for good: {listed}")
        return 0

    return asyncio.run(_with_log(datadir, args.store, run))


def cmd_calendar(args: argparse.Namespace) -> int:
    from ledger.admin import calendar_cli

    datadir = load_datadir(Path(args.data))
    policy = _policy(args.policy)
    if args.calendar_cmd == "add":
        event = calendar_cli.year_event(args)
        result = asyncio.run(_with_log(datadir, args.store, lambda log: calendar_cli.add_year(log, event)))
        verb = "recorded" if result.created else "already recorded"
        print(
            f"{verb}: the {args.year} working-day calendar, calendar.adopted at seq {result.seq} "
            f"({len(event.data['holidays'])} weekdays off, {len(event.data['workdays'])} weekend days worked; "
            f"source: {args.source})"
        )
        return 0
    from ledger.services.calendar_keeper import CalendarSources

    book = asyncio.run(_with_store(datadir, args.store, lambda store: calendar_cli.read_book(store, policy)))
    for line in calendar_cli.describe(book, CalendarSources(policy), _now().astimezone(policy.tz).date()):
        print(line)
    return 0


_FIRST_EVENT = {
    "event_id": "first-1",
    "type": "attendance.clock_in",
    "subject": "E1001",
    "occurred_at": "2026-03-02T09:01:00+08:00",
    "source": "hris",
    "data": {"method": "card"},
}


def _policy(path: str | None) -> Any:
    from ledger.domain import DEFAULT_POLICY, load_policy

    if not path:
        return DEFAULT_POLICY
    try:
        return load_policy(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataDirError(f"cannot read the policy file {path}: {exc.strerror}") from None


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(field, f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_bundle(args: argparse.Namespace) -> int:
    from ledger.services.evidence import build_subject_bundle

    datadir = load_datadir(Path(args.data))
    start, end, policy = _date(args.start, "--from"), _date(args.end, "--to"), _policy(args.policy)
    out = Path(args.out)
    if not out.parent.is_dir():  # before the work, not after it
        raise ValidationError("--out", f"the folder {out.parent} does not exist; create it or choose another path")
    bundle = asyncio.run(
        _with_log(
            datadir,
            args.store,
            lambda log: build_subject_bundle(
                log, subject=args.subject, start=start, end=end, now=_now(), policy=policy
            ),
        )
    )
    out.write_bytes(bundle)
    print(
        f"wrote {out} ({len(bundle):,} bytes); verify it with: hrledger-verify {out} --vkey '{datadir.signer().vkey}'"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ledger.admin.demo import run_demo

    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="hrledger-demo-"))
    return asyncio.run(run_demo(workdir))


def _guide(base: str, token: str | None, data: str) -> str:
    shown = token or "<your token>"
    lines = [
        "",
        f"hrledger is starting at {base}",
        f"  admin token (shown once, keep it): {token}"
        if token
        else f"  tokens: hrledger token create --data {data} --role writer|auditor|legal|admin --name NAME",
        "  try it:",
        f"    curl -s -H 'Authorization: Bearer {shown}' {base}/v1/log",
        f"    curl -s -H 'Authorization: Bearer {shown}' -H 'Content-Type: application/json' \\",
        f"      -d '{json.dumps(_FIRST_EVENT, separators=(',', ':'))}' \\",
        f"      '{base}/v1/events?wait=checkpoint'",
        f"    curl -s -H 'Authorization: Bearer {shown}' {base}/v1/checkpoint",
        f"  API description: {base}/v1/openapi.json   stop: Ctrl-C (commits and signs a last checkpoint)",
        "",
    ]
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    from api.config import AppConfig
    from api.server import serve
    from api.workbench.settings import WorkbenchSettings
    from ledger.admin.datadir import bootstrap

    token = bootstrap(args.data) if args.init else None
    load_datadir(Path(args.data))  # a wrong data directory is refused before anything is printed
    print(_guide(f"http://{args.host}:{args.port}", token, args.data), flush=True)
    config = AppConfig(
        data_dir=Path(args.data),
        store_uri=args.store,
        tick_seconds=args.tick,
        policy_path=Path(args.policy) if args.policy else None,
        tsa_url=args.tsa_url,
        tsa_interval=args.tsa_interval,
        tsa_root=Path(args.tsa_root) if args.tsa_root else None,
        auth_failure_burst=args.auth_failure_burst,
        lease_ttl=args.lease_ttl,
        access_log=not args.no_access_log,
        witnesses_path=Path(args.witnesses) if args.witnesses else None,
        workbench=WorkbenchSettings(
            public_url=args.public_url,
            notice_templates=Path(args.notice_templates) if args.notice_templates else None,
        ),
    )
    if config.witnesses_path is not None:
        from ledger.services.witness_policy import read_witness_policy

        read_witness_policy(config.witnesses_path)  # a wrong policy file is refused before anything listens
    return serve(config, host=args.host, port=args.port)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give more than 0 and less than 3600 seconds")
    return value


class DEFAULTS(argparse.HelpFormatter):
    """--help shows each option's default, when it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and not action.required and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


DATA_HELP = "the ledger's data directory (made by hrledger init)"
STORE_HELP = "override the data directory's store, e.g. mongodb://HOST:PORT/DB"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hrledger", description="Evidence ledger for absence after leave.")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_, formatter_class=DEFAULTS)
        p.set_defaults(fn=fn)
        return p

    p = command("init", cmd_init, "create a new ledger: store and Ed25519 signing key")
    p.add_argument("--data", required=True, help="data directory (created)")
    p.add_argument("--origin", help="log origin, e.g. hr.example.com/ledger (default: a random local name)")
    p.add_argument("--store", help="store URI (default: embedded SQLite in the data directory)")
    p.add_argument(
        "--key",
        help="keep the signing key in this file instead of DIR/signing.key; an existing "
        "key there is used (its name is the origin), e.g. to join a MongoDB log from "
        "a second host",
    )

    p = command("serve", cmd_serve, "run the HTTP service")
    p.add_argument("--data", required=True, help=DATA_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free port)")
    p.add_argument("--store", help="override the store URI, e.g. mongodb://HOST:PORT/DB")
    p.add_argument("--tick", type=float, default=60.0, help="seconds between escalation evaluations")
    p.add_argument("--policy", help="company policy file (TOML): shift, grace, stages, calendar, webhook, SMTP")
    p.add_argument("--tsa-url", help="RFC 3161 Time Stamping Authority URL; checkpoints get timestamped")
    p.add_argument("--tsa-interval", type=float, default=300.0, help="seconds between timestamps")
    p.add_argument("--tsa-root", help="PEM of the TSA's root certificate, to check each token on receipt")
    p.add_argument(
        "--auth-failure-burst",
        type=int,
        default=10,
        help="failed authentications one client address may make before 429",
    )
    p.add_argument(
        "--lease-ttl",
        type=_positive_seconds,
        default=10.0,
        help="MongoDB stores: seconds the sequencer lease lasts unrenewed, so the longest a killed "
        "sequencer blocks writes before another process takes over",
    )
    p.add_argument(
        "--witnesses",
        metavar="FILE",
        help="witness policy (TOML): the witnesses that cosign each checkpoint and how many must (docs/witnesses.md)",
    )
    p.add_argument("--no-access-log", action="store_true", help="do not log a line per request")
    p.add_argument(
        "--public-url",
        help="the workbench's address as people open it, e.g. https://hr.example.com/ (https: Secure cookies)",
    )
    p.add_argument("--notice-templates", help="a directory of the company's own notice templates (docs/notices.md)")
    p.add_argument(
        "--init",
        action="store_true",
        help="create the ledger and a first admin token when the data directory does not exist",
    )

    p = command("token", cmd_token, "create, list or revoke API tokens")
    token_sub = p.add_subparsers(dest="token_cmd", required=True)
    for name in ("create", "list", "revoke"):
        tp = token_sub.add_parser(name, help=f"{name} API tokens", formatter_class=DEFAULTS)
        tp.add_argument("--data", required=True, help=DATA_HELP)
        tp.add_argument("--store", help=STORE_HELP)
        if name == "create":
            tp.add_argument("--role", required=True, choices=list(ROLES), help="what the token may do (SPEC section 2)")
            tp.add_argument("--name", required=True, help="who or what holds it, e.g. hris")
        if name == "revoke":
            tp.add_argument("token", help="token id or name")

    from ledger.admin.users_cli import add_parser as add_user_parser

    add_user_parser(sub).set_defaults(fn=cmd_user)

    p = command("key", cmd_key_show, "show the verifier key")
    key_sub = p.add_subparsers(dest="key_cmd", required=True)
    kp = key_sub.add_parser("show", help="print the verifier key", formatter_class=DEFAULTS)
    kp.add_argument("--data", required=True, help=DATA_HELP)

    p = command("fsck", cmd_fsck, "recompute every leaf and node and check every checkpoint")
    p.add_argument("--data", required=True, help=DATA_HELP)
    p.add_argument("--store", help=STORE_HELP)

    p = command("erase", cmd_erase, "erase the personal data of one employee; proofs keep verifying")
    p.add_argument("--data", required=True, help=DATA_HELP)
    p.add_argument("--subject", required=True, help="employee id")
    p.add_argument("--yes", action="store_true", help="erase even when the employee has an open case (it closes)")
    p.add_argument("--policy", help="company policy file (TOML), to find the open cases as the service does")
    p.add_argument("--store", help=STORE_HELP)

    p = command("bundle", cmd_bundle, "export the evidence bundle of one employee and period")
    p.add_argument("--data", required=True, help=DATA_HELP)
    p.add_argument("--subject", required=True, help="employee id")
    p.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (company time zone)")
    p.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--out", required=True, help="zip file to write")
    p.add_argument("--policy", help="company policy file (TOML), for the time zone and the case")
    p.add_argument("--store", help=STORE_HELP)

    p = command("calendar", cmd_calendar, "record a year of the working-day calendar, or show the years known")
    cal_sub = p.add_subparsers(dest="calendar_cmd", required=True)
    cp = cal_sub.add_parser(
        "add",
        help="record a year's official holidays and make-up days as calendar.adopted",
        description="Record one year of the working-day calendar (SPEC section 4) as a "
        "calendar.adopted entry of subject company. Dates are YYYY-MM-DD, given as "
        "a comma-separated list or a file holding them (# starts a comment); "
        "'none' is the empty list.",
        formatter_class=DEFAULTS,
    )
    cp.add_argument("--data", required=True, help=DATA_HELP)
    cp.add_argument("--year", required=True, type=int, help="the year, e.g. 2027")
    cp.add_argument("--holidays", required=True, help="weekdays off (FILE or LIST)")
    cp.add_argument("--workdays", required=True, help="weekend days worked, 调休 (FILE or LIST, or none)")
    cp.add_argument("--source", required=True, help="the official notice, e.g. its number and date")
    cp.add_argument("--store", help=STORE_HELP)
    cp.add_argument("--policy", help="company policy file (TOML)")
    sp = cal_sub.add_parser(
        "show",
        help="the years in the log, the sources the service records from, and how far the calendar reaches",
        formatter_class=DEFAULTS,
    )
    sp.add_argument("--data", required=True, help=DATA_HELP)
    sp.add_argument("--store", help=STORE_HELP)
    sp.add_argument("--policy", help="company policy file (TOML), whose [calendar.years.Y] are a source")

    from ledger.admin import witness_cli

    witness_cli.add_parser(sub)

    p = command("demo", cmd_demo, "play the seed case into a fresh ledger, from first event to verified bundle")
    p.add_argument("--dir", help="where to create the demo ledger (default: a new temporary directory)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.fn(args)
    except LedgerError as exc:
        print(f"hrledger: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an operator's mistake (a missing folder, a busy port): a message, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"hrledger: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
