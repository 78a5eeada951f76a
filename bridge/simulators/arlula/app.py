"""The Arlula simulator's routes: credentials check, archive search (both generations),
and the order, dataset, resource and storage routes of :mod:`.orders_api` and :mod:`.downloads`.

The 2023-01 validation envelope ``{state, errors, warnings, results}`` with status 400,
and the texts of errors, are assumed: no public source shows them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.simulators.arlula import downloads, orders_api, tasking_api
from bridge.simulators.arlula.auth import DEMO_KEY, DEMO_SECRET, refusal
from bridge.simulators.arlula.parse import InvalidSearch, search_2020, search_2023
from bridge.simulators.arlula.records import run_search
from bridge.simulators.arlula.tasking import settle
from bridge.simulators.common.app import JSONResponse, read_json
from bridge.simulators.common.storage import ObjectStore

__all__ = ["DEMO_KEY", "DEMO_SECRET", "routes"]


def _invalid_2023(errors: list[str]) -> Response:
    body: dict[str, Any] = {"state": "error", "errors": errors, "warnings": [], "results": []}
    return JSONResponse(body, status_code=400)


def _today(request: Request) -> date:
    """The simulator's current UTC day (``SimulatorConfig.clock``)."""
    return datetime.fromtimestamp(request.app.state.ledger.clock(), UTC).date()


async def api_test(request: Request) -> Response:
    """``GET /api/test``: 200 when the Basic credentials are valid."""
    return refusal(request) or PlainTextResponse("OK")


async def archive_search(request: Request) -> Response:
    """``POST /api/archive/search`` (2023-01): the whole result in one response."""
    refused = refusal(request)
    if refused:
        return refused
    settle(request.app)  # completed campaigns' captures are part of the archive
    try:
        search = search_2023(await read_json(request), _today(request))
    except InvalidSearch as exc:
        return _invalid_2023(exc.errors)
    except ValueError as exc:  # unparseable body
        return _invalid_2023([str(exc)])
    archive = request.app.state.archive
    results = run_search(archive, search, str(request.base_url), "2023-01")
    # Suppliers set as failing (``arlula_failing_suppliers``) answer nothing and leave an
    # error beside the others' results: the search is partial, still 200 (the SDKs read
    # `errors` beside `results`; tasking search shows per-supplier errors). Wording assumed.
    down = set(request.app.state.settings.failing_suppliers)
    if search.suppliers is not None:
        down &= search.suppliers
    errors = [f"supplier {key}: search failed, please try again later" for key in sorted(down)]
    results = [r for r in results if r["supplier"] not in down]
    return JSONResponse({"state": "complete", "errors": errors, "warnings": [], "results": results})


async def search_v2020(request: Request) -> Response:
    """``GET /api/search`` (2020-12, seed 002): a bare JSON list of results."""
    refused = refusal(request)
    if refused:
        return refused
    settle(request.app)
    try:
        search = search_2020(request.query_params, _today(request))
    except InvalidSearch as exc:
        return PlainTextResponse("; ".join(exc.errors), status_code=400)
    archive = request.app.state.archive
    return JSONResponse(run_search(archive, search, str(request.base_url), "2020-12"))


def routes(store: ObjectStore) -> list[BaseRoute]:
    """Every native route, and the storage the downloads redirect to."""
    return [
        Route("/api/test", api_test, methods=["GET"]),
        Route("/api/archive/search", archive_search, methods=["POST"]),
        Route("/api/search", search_v2020, methods=["GET"]),
        *orders_api.routes(),
        *tasking_api.routes(),
        *downloads.routes(),
        *store.routes(),
    ]
