"""``python -m api --data DIR [--host H] [--port P] [--store URI] [--tick S] [--policy FILE]``.

A small runner for the service until (and beside) ``hrledger serve``; ``--bootstrap`` creates the data
directory and a first admin token when it does not exist yet, printing the token once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from api.server import bootstrap, serve
from ledger.errors import LedgerError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api", description="Run the hrledger HTTP service.")
    parser.add_argument("--data", required=True, help="data directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--store", default=None, help="store URI overriding the data directory's")
    parser.add_argument("--tick", type=float, default=60.0, help="escalation evaluation period in seconds")
    parser.add_argument("--policy", default=None, help="escalation policy file")
    parser.add_argument("--bootstrap", action="store_true", help="create the ledger and an admin token if missing")
    parser.add_argument("--no-access-log", action="store_true", help="do not log a line per request")
    args = parser.parse_args(argv)
    try:
        if args.bootstrap:
            token = bootstrap(args.data)
            if token is not None:
                print(f"created a new ledger in {args.data}; admin token (shown once):\n{token}", flush=True)
        return serve(
            args.data, args.host, args.port, args.store, args.tick, args.policy, access_log=not args.no_access_log
        )
    except LedgerError as exc:
        print(f"hrledger: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
