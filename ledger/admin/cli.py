"""The ``hrledger`` command line (SPEC section 6): the parser, and ``main``, which turns every operator
mistake into a message and an exit code, never a traceback. The commands themselves are in ``commands``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ledger.admin.commands import (
    cmd_bundle,
    cmd_calendar,
    cmd_demo,
    cmd_erase,
    cmd_fsck,
    cmd_init,
    cmd_key_show,
    cmd_serve,
    cmd_token,
    cmd_user,
    positive_seconds,
)
from ledger.errors import LedgerError
from ledger.services.tokens import ROLES


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
        default=100,  # api.ratelimit.DEFAULT_BURST (the service is imported only when it starts)
        help="failed authentications one client address may make before 429",
    )
    p.add_argument(
        "--lease-ttl",
        type=positive_seconds,
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
