"""The ``bridge`` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge.settings import Settings

# Each command imports what it needs when it runs: ``bridge serve`` does not pay for the
# provider checks, and ``bridge keys`` not for the web stack (start-up time).
EXIT_USAGE = 2  # as bridge.check.EXIT_USAGE: a usage or configuration error


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bridge``."""
    parser = argparse.ArgumentParser(prog="bridge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the STAC API (sandbox mode without credentials)")
    s.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    s.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes, supervised and replaced when one dies (default: "
        "BRIDGE_WORKERS, else 1)",
    )
    mode = s.add_mutually_exclusive_group()
    mode.add_argument(
        "--sandbox",
        dest="sandbox",
        action="store_true",
        default=None,
        help="run the built-in provider simulators (default when no credentials are set)",
    )
    mode.add_argument(
        "--no-sandbox", dest="sandbox", action="store_false", help="use real provider APIs"
    )
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser(
        "create", help="create an API key (and the tenant if needed); prints the key last"
    )
    create.add_argument("--tenant", required=True, help="tenant name")
    _add_providers_parser(sub)
    return parser


def _add_providers_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    providers = sub.add_parser("providers", help="provider tools").add_subparsers(
        dest="providers_command", required=True
    )
    check = providers.add_parser(
        "check",
        help="check the configured credentials: auth, search, item, price (never an order), "
        "thumbnail, and the native answers against the documented shapes",
    )
    check.add_argument("--provider", help="check only this provider")
    check.add_argument(
        "--record", type=Path, metavar="DIR", help="save the redacted native answers in DIR"
    )
    check.add_argument(
        "--sandbox", metavar="URL", help="check a running sandbox bridge (its /sandbox document)"
    )
    check.add_argument("--bbox", help="area to search, W,S,E,N (default: around Helsinki)")
    check.add_argument("--datetime", help="time to search, STAC interval (default: 2019 on)")


def check_providers(args: argparse.Namespace) -> int:
    """``bridge providers check``: the report on stdout, configuration errors on stderr."""
    from pydantic import ValidationError

    from bridge.check import CheckConfigError, run_check

    try:
        settings = Settings()
    except ValidationError as exc:
        # Field locations and messages only: pydantic's full text echoes the input values.
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"bridge: invalid configuration: {where}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(
            run_check(
                settings,
                sys.stdout,
                provider=args.provider,
                record=args.record,
                sandbox=args.sandbox,
                bbox=args.bbox,
                datetime=args.datetime,
            )
        )
    except CheckConfigError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return EXIT_USAGE


async def create_key(settings: Settings, tenant: str) -> str:
    """Create a key for ``tenant`` in the configured database."""
    from bridge.auth.keys import KeyStore
    from bridge.db.engine import Database

    db = Database(settings.database())
    try:
        return await KeyStore(db).add_key(tenant)
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``bridge`` command."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        settings = Settings()
        if args.sandbox is not None:
            settings = settings.model_copy(update={"sandbox": args.sandbox})
        if args.workers is not None:
            if not 1 <= args.workers <= 64:
                print("bridge: --workers must be 1 to 64", file=sys.stderr)
                return EXIT_USAGE
            settings = settings.model_copy(update={"workers": args.workers})
        from bridge.server import serve

        try:
            serve(settings, args.host, args.port)
        except OSError as exc:
            print(f"bridge: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
    elif args.command == "keys" and args.keys_command == "create":
        tenant = args.tenant.strip()
        if not tenant or len(tenant) > 100:
            print("bridge: --tenant must be 1 to 100 characters", file=sys.stderr)
            return EXIT_USAGE
        key = asyncio.run(create_key(Settings(), tenant))
        print(f"created an API key for tenant {tenant!r}; it is shown once:")
        print(key)
    elif args.command == "providers":
        return check_providers(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
