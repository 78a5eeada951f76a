"""Building a simulator app: native routes + fault middleware + ``/_simulator`` routes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bridge.simulators.common.faults import FaultMiddleware, FaultSettings, FaultState
from bridge.simulators.common.stats import RequestStats


@dataclass
class SimulatorConfig:
    """How to build one simulator."""

    seed: int = 20260101
    scenes: int = 6000
    faults: FaultSettings = field(default_factory=FaultSettings)
    runtime_faults: bool = True
    """Accept ``POST/DELETE /_simulator/faults`` (sandbox mode and tests)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Per-simulator settings, keys prefixed with the simulator's name
    (``iceye_order_step_s``); each simulator reads its own with :func:`simulator_settings`."""
    clock: Callable[[], float] = time.time
    """The one clock of every simulator (unix seconds): tests pass a manual one."""


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def simulator_settings(model: type[SettingsT], name: str, config: SimulatorConfig) -> SettingsT:
    """Simulator ``name``'s typed settings from ``config.extra``.

    Keys ``<name>_<field>`` become the fields of ``model`` (a pydantic model whose fields
    all have defaults); keys of other simulators are not its business. A key with this
    simulator's prefix that ``model`` does not know, or a bad value, raises
    ``ValueError`` naming it, so a typo in a test or sandbox setting fails loudly.
    """
    prefix = f"{name}_"
    own = {k[len(prefix) :]: v for k, v in config.extra.items() if k.startswith(prefix)}
    unknown = sorted(set(own) - set(model.model_fields))
    if unknown:
        known = ", ".join(prefix + f for f in model.model_fields)
        raise ValueError(f"unknown {name} simulator settings {unknown}; known: {known}")
    try:
        return model.model_validate(own)
    except ValidationError as exc:
        raise ValueError(f"invalid {name} simulator settings: {exc}") from exc


class JSONResponse(Response):
    """A JSON response serialized with orjson (fast, and keeps numbers as numbers)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_json(request: Request) -> Any:
    """Parse a JSON request body whatever its Content-Type says (Arlula's SDK sends none).

    Returns ``None`` for an empty body; raises ``ValueError`` for an unparseable one.
    """
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"request body is not JSON: {exc}") from exc


def simulator_app(
    name: str, routes: Sequence[BaseRoute], config: SimulatorConfig, **state: Any
) -> Starlette:
    """A Starlette app serving ``routes`` with stats, faults and the ``/_simulator`` API.

    ``state`` entries (e.g. the archive) are set on ``app.state``.
    """
    stats = RequestStats()
    faults = FaultState(config.faults)

    async def get_stats(request: Request) -> Response:
        return JSONResponse({"simulator": name, **stats.snapshot()})

    async def reset_stats(request: Request) -> Response:
        stats.reset()
        return Response(status_code=204)

    async def set_faults(request: Request) -> Response:
        if not config.runtime_faults:
            return JSONResponse({"message": "run-time faults are disabled"}, status_code=403)
        try:
            faults.set(FaultSettings.model_validate(await read_json(request) or {}))
        except (ValueError, ValidationError) as exc:
            return JSONResponse({"message": f"invalid fault settings: {exc}"}, status_code=400)
        return JSONResponse(faults.settings.model_dump())

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.settings.model_dump())

    async def clear_faults(request: Request) -> Response:
        if not config.runtime_faults:
            return JSONResponse({"message": "run-time faults are disabled"}, status_code=403)
        faults.clear()
        return Response(status_code=204)

    admin = [
        Route("/_simulator/stats", get_stats, methods=["GET"]),
        Route("/_simulator/stats", reset_stats, methods=["DELETE"]),
        Route("/_simulator/faults", get_faults, methods=["GET"]),
        Route("/_simulator/faults", set_faults, methods=["POST"]),
        Route("/_simulator/faults", clear_faults, methods=["DELETE"]),
    ]
    app = Starlette(
        routes=[*admin, *routes],
        middleware=[Middleware(FaultMiddleware, faults=faults, stats=stats)],
    )
    app.state.name = name
    app.state.stats = stats
    app.state.faults = faults
    app.state.config = config
    for key, value in state.items():
        setattr(app.state, key, value)
    return app
