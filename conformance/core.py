"""What every check shares: results, the run context and the record of received documents."""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bridge import registry

PASS = "pass"
FAIL = "fail"
WAIVED = "waived"
NOT_APPLICABLE_YET = "not applicable yet"
NOT_COVERED = "not covered"

# Around Helsinki: a cluster every simulated archive has.
HELSINKI_BBOX = [24.5, 60.0, 25.3, 60.4]
HELSINKI_POLYGON = {
    "type": "Polygon",
    "coordinates": [[[24.5, 60.0], [25.3, 60.0], [25.3, 60.4], [24.5, 60.4], [24.5, 60.0]]],
}
WINDOW = "2019-01-01T00:00:00Z/2026-12-31T23:59:59Z"
PROVIDERS = tuple(registry.provider_names())
# The media type QGIS streams and GDAL's STACIT driver mosaics.
COG = "image/tiff; application=geotiff; profile=cloud-optimized"


class CheckFailure(Exception):
    """An expectation of a check that the bridge did not meet."""


def expect(condition: object, message: str) -> None:
    """Fail the current case with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message)


@dataclass
class Case:
    """One named expectation within a check, e.g. one conformance class or request."""

    name: str
    status: str
    detail: str = ""


@dataclass
class CheckResult:
    """The structured outcome of one named check."""

    name: str
    title: str
    passed: bool
    details: list[str] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass
class Received:
    """A STAC document some check received, for the schema-validation check."""

    check: str
    method: str
    url: str
    body: dict[str, Any]
    # Responses to a Fields-extension request are partial by design: not schema-validated.
    partial: bool = False


class Recorder:
    """Every JSON document the client checks receive, de-duplicated by content."""

    def __init__(self) -> None:
        self.documents: list[Received] = []
        self._seen: set[str] = set()

    def add(self, check: str, method: str, url: str, body: Any, *, partial: bool = False) -> None:
        if not isinstance(body, dict):
            return
        digest = hashlib.sha1(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
        if digest in self._seen:
            return
        self._seen.add(digest)
        self.documents.append(Received(check, method, url, body, partial))


@dataclass
class Context:
    """What a check gets: the bridge under test, where to write, and the shared recorder."""

    root: str
    api_key: str
    output: Path
    recorder: Recorder = field(default_factory=Recorder)
    fast: bool = False
    # Where screenshots go (kept with REPORT.md); the output folder when None.
    screenshots: Path | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def url(self, path: str) -> str:
        return self.root.rstrip("/") + "/" + path.lstrip("/")


class Cases:
    """Collects the cases of one check: ``with cases.case("name"): ...`` records pass/fail."""

    def __init__(self) -> None:
        self.cases: list[Case] = []

    @contextmanager
    def case(self, name: str) -> Iterator[list[str]]:
        """Record ``name``: fail on CheckFailure or any error, else pass with the notes the
        block appended to the list it is given."""
        notes: list[str] = []
        try:
            yield notes
        except CheckFailure as exc:
            self.cases.append(Case(name, FAIL, str(exc)))
        except Exception as exc:  # an unexpected error fails the case, with where it came from
            tb = traceback.format_exc(limit=-3)
            self.cases.append(Case(name, FAIL, f"{type(exc).__name__}: {exc}\n{tb}"))
        else:
            self.cases.append(Case(name, PASS, "; ".join(notes)))

    def add(self, name: str, status: str, detail: str = "") -> None:
        self.cases.append(Case(name, status, detail))

    @property
    def passed(self) -> bool:
        return all(c.status != FAIL for c in self.cases)


@dataclass(frozen=True)
class Check:
    """A named check of the runner: ``run(ctx) -> CheckResult``."""

    name: str
    number: int
    title: str
    run: Callable[[Context], CheckResult]


def timed(check: Check, ctx: Context) -> CheckResult:
    """Run ``check``; any exception it lets out is a failed result, never a crashed run."""
    start = time.monotonic()
    try:
        result = check.run(ctx)
    except Exception as exc:
        result = CheckResult(
            check.name,
            check.title,
            False,
            [f"check crashed: {type(exc).__name__}: {exc}", traceback.format_exc()],
        )
    result.duration_s = time.monotonic() - start
    return result
