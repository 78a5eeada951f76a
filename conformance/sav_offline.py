"""stac-api-validator, offline: ``python -m conformance.sav_offline [--offline-log FILE] ARGS``.

ARGS are stac-api-validator's own command-line arguments (``--root-url``, ``--conformance``,
``-H 'X-API-Key: ...'`` ...). The validator runs in this process under
``conformance.offline.offline()``: the bridge on loopback is reached as usual, every schema
URL is answered from ``../shared/schemas``, and a URL with no local file is refused and
named. Exit status: the validator's (0 = no errors), or 3 when it passed but some schema
had no offline copy, or a connection to a non-loopback address was attempted.

One addition to the validator's CLI: ``--conformance features#filter``, a class its
``validate_api`` implements but its CLI choice list leaves out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from conformance.offline import OfflineLog, offline

EXTRA_CLASSES = ("features#filter",)
OFFLINE_FAILURE = 3


def _pop_option(argv: list[str], name: str) -> str | None:
    if name in argv:
        i = argv.index(name)
        value = argv[i + 1]
        del argv[i : i + 2]
        return value
    return None


def _cli() -> Any:
    from stac_api_validator.__main__ import main as cli

    for param in cli.params:
        if param.name == "conformance_classes":
            choices = tuple(param.type.choices)  # type: ignore[attr-defined]
            param.type.choices = choices + tuple(c for c in EXTRA_CLASSES if c not in choices)  # type: ignore[attr-defined]
    return cli


def run(argv: list[str]) -> tuple[int, OfflineLog]:
    """Run the validator CLI on ``argv`` offline; its exit status and what went offline."""
    with offline() as log:
        cli = _cli()
        try:
            code = cli.main(args=argv, prog_name="stac-api-validator", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code
    status = code if isinstance(code, int) else (0 if code is None else 1)
    return status, log


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    log_file = _pop_option(args, "--offline-log")
    status, log = run(args)
    if log_file:
        Path(log_file).write_text(json.dumps(log.as_dict(), indent=2))
    print(f"offline: {len(log.served)} schema URL(s) answered from the local mirror")
    for url in sorted(log.link_misses):
        print(f"offline: link/asset href not opened (no network): {url}")
    for url, why in sorted(log.schema_misses.items()):
        print(f"OFFLINE SCHEMA MISS: {url}: {why}")
    for address in log.refused_sockets:
        print(f"OFFLINE: refused a connection to {address}")
    if status == 0 and (log.schema_misses or log.refused_sockets):
        status = OFFLINE_FAILURE
    return status


if __name__ == "__main__":
    sys.exit(main())
