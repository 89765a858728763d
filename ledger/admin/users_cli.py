"""``hrledger user create|list|disable``: the people who sign in to the workbench (SPEC sections 6 and 8).

The password is asked for twice on a terminal, or read as the first line of standard input with
``--password-stdin`` (for scripts); it is never an argument, which other users of the machine could
read in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from ledger.errors import ValidationError
from ledger.services import users
from ledger.services.tokens import ROLES
from ledger.storage.base import Storage


def read_password(args: argparse.Namespace, prompt: Callable[[str], str] = getpass.getpass) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise ValidationError("password", "--password-stdin: standard input is empty")
        return users.check_password(line.rstrip("\r\n"))
    first = users.check_password(prompt(f"password for {args.name}: "))
    if prompt("again: ") != first:
        raise ValidationError("password", "the two passwords differ")
    return first


async def run(args: argparse.Namespace, store: Storage, password: str | None, now: str) -> int:
    if args.user_cmd == "create":
        assert password is not None
        user = await users.create_user(store, name=args.name, role=args.role, password=password, created_at=now)
        print(f"created {user.role} {user.name}; what they record carries source {user.source}")
    elif args.user_cmd == "list":
        for user in await users.list_users(store):
            state = "disabled" if user.disabled else "active"
            print(f"{user.name:<24} {user.role:<8} {state:<8} {user.created_at}")
    else:
        user = await users.disable_user(store, args.name)
        print(f"disabled {user.name} ({user.role}); their sessions end at their next request")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "user",
        help="create, list or disable the people who sign in to the workbench",
        description="People sign in to the workbench at / with a name and password; API tokens stay for machines.",
    )
    user_sub = p.add_subparsers(dest="user_cmd", required=True)
    for name in ("create", "list", "disable"):
        up = user_sub.add_parser(name)
        up.add_argument("--data", required=True)
        up.add_argument("--store")
        if name == "create":
            up.add_argument("--role", required=True, choices=ROLES, help="hr for HR staff (writer + legal)")
        if name in ("create", "disable"):
            up.add_argument("--name", required=True, help="a handle such as wang.li (it goes into the log)")
        if name == "create":
            up.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return p
