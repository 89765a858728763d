"""The ``hrledger`` commands (SPEC section 6): each ``cmd_*`` takes the parsed arguments and returns an exit code.

``cli.py`` holds the parser that dispatches to them.
"""

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
    if report.v1_entries:
        print(f"fsck: {report.v1_entries} v1 entries (made before v2) carry no prev: their chains cannot be followed")
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


def serve_guide(base: str, token: str | None, data: str, program: str = "hrledger") -> str:
    """What ``hrledger serve`` prints before it listens: how a newcomer uses what just started (``program``:
    the command as it was invoked, e.g. ``.venv/bin/hrledger`` under ``make run``)."""
    shown = token or "<your token>"
    lines = [
        "",
        f"hrledger is starting at {base}",
        f"  admin token (shown once, keep it): {token}"
        if token
        else f"  tokens: {program} token create --data {data} --role writer|auditor|legal|hr|admin --name NAME",
        f"  workbench for HR and legal staff: {base}/ (create a person first, the password is asked for:",
        f"    {program} user create --data {data} --role hr --name wang.li)",
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
    program = sys.argv[0] if Path(sys.argv[0]).name == "hrledger" else "hrledger"
    print(serve_guide(f"http://{args.host}:{args.port}", token, args.data, program), flush=True)
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


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give more than 0 and less than 3600 seconds")
    return value
