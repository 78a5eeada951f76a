"""The bridge side by side with stac-fastapi-eodag over the same STAC upstream.

Upstream: the Satellogic simulator's archive STAC API (``<base>/archive/stac/``) of one
sandbox process, served with TCP_NODELAY like a production API. Both servers under test
run alone in their own process, one worker each, and search the same native collection
(``l1d``): the bridge as ``satellogic-l1d`` (configured, like a real deployment, with
that simulator as its Satellogic endpoint), eodag as ``SATELLOGIC_L1D`` of a
``StacSearch`` provider with static auth headers (sandbox tokens last 24 h). Every
request has its own datetime end, so nothing is answered from a cache.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.eodag_env import EodagUnavailable, ensure_venv
from bench.live import OUTPUT, Live, free_port, live_bridge, wait_until_up
from bench.load import closed_loop
from bench.util import header

CONF = OUTPUT / "eodag-conf"
LIMITS = (10, 100)
CONCURRENCY = (1, 8)
TARGET = 50.0  # throughput ratio at limit=100
PROVIDER_YML = """\
satellogic_sim:
  priority: 1
  roles: [host]
  description: Satellogic archive simulator of the bridge sandbox
  url: {base}
  search:
    type: StacSearch
    api_endpoint: {base}/archive/stac/search
    need_auth: true
    pagination:
      next_page_token_key: token
      max_limit: 1000
    discover_collections:
      fetch_url: null
    discover_queryables:
      fetch_url: null
      collection_fetch_url: null
  products:
    SATELLOGIC_L1D:
      _collection: l1d
  download:
    type: HTTPDownload
    ssl_verify: false
  auth:
    type: HTTPHeaderAuth
    matching_url: {base}
    headers:
      authorizationToken: "Bearer {{token}}"
      X-Satellogic-Contract-Id: "{{contract}}"
    credentials:
      token: "{token}"
      contract: "{contract}"
"""
COLLECTIONS_YML = """\
SATELLOGIC_L1D:
  title: Satellogic L1D (bridge sandbox simulator)
  description: Satellogic L1D tiles served by the bridge's Satellogic simulator.
  license: other
  keywords: [satellogic, l1d]
  extent: {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
           "temporal": {"interval": [["2015-01-01T00:00:00Z", null]]}}
"""


def _token(sim: dict[str, Any]) -> str:
    cred = sim["credentials"]
    body = {
        "client_id": cred["client_id"],
        "client_secret": cred["client_secret"],
        "audience": "https://api.satellogic.com/",
        "grant_type": "client_credentials",
    }
    resp = httpx.post(cred["auth_url"], json=body, timeout=10)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def _start_eodag(python: Path, sim: dict[str, Any]) -> tuple[subprocess.Popen[bytes], str]:
    (CONF / "providers").mkdir(parents=True, exist_ok=True)
    (CONF / "user").mkdir(exist_ok=True)
    provider = PROVIDER_YML.format(
        base=sim["base_url"], token=_token(sim), contract=sim["credentials"]["contract_id"]
    )
    (CONF / "providers" / "satellogic_sim.yml").write_text(provider)
    (CONF / "collections.yml").write_text(COLLECTIONS_YML)
    (CONF / "ext_collections.json").write_text("{}")
    env = {
        **os.environ,
        "EODAG_CFG_DIR": str(CONF / "user"),  # not ~/.config/eodag
        "EODAG_PROVIDERS_CFG_DIR": str(CONF / "providers"),
        "EODAG_COLLECTIONS_CFG_FILE": str(CONF / "collections.yml"),
        "EODAG_EXT_COLLECTIONS_CFG_URI": str(CONF / "ext_collections.json"),  # no network
        "EODAG_PROVIDERS_WHITELIST": '["satellogic_sim"]',
        "EODAG_STRICT_COLLECTIONS": "true",
    }
    port = free_port()
    cmd = [str(python), "-m", "uvicorn", "stac_fastapi.eodag.app:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1", "--log-level", "warning"]
    log = (OUTPUT / "eodag-server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    root = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(root, proc, timeout_s=300)
    except RuntimeError as exc:
        proc.kill()
        raise EodagUnavailable(f"stac-fastapi-eodag did not start ({exc}); see {log.name}") from exc
    return proc, root


_UNIQUE = itertools.count()


def _params(collection: str, limit: int) -> Any:
    def params(_: int) -> dict[str, Any]:
        end = datetime(2026, 6, 30) - timedelta(minutes=next(_UNIQUE))  # never seen before
        window = f"2019-01-01T00:00:00Z/{end.isoformat()}Z"
        return {"collections": collection, "limit": limit, "datetime": window}

    return params


def _check_paging(url: str, collection: str) -> str:
    """Page 1 and page 2 (following ``next``) of limit 10: 20 distinct ids expected."""
    with httpx.Client(timeout=120) as client:
        first = client.get(url, params={"collections": collection, "limit": 10}).json()
        nxt = next(ln for ln in first["links"] if ln["rel"] == "next")
        second = client.get(nxt["href"]).json()
    ids = {f["id"] for f in first["features"]} | {f["id"] for f in second["features"]}
    return f"{len(ids)} distinct ids over 2 pages of 10"


def _measure(servers: dict[str, tuple[str, str]], sim: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for limit in LIMITS:
        for conc in CONCURRENCY:
            for name, (url, collection) in servers.items():
                before = _native_searches(sim)
                r = closed_loop(
                    url, _params(collection, limit), conc, min_requests=max(5, 2 * conc)
                )
                r["native"] = (_native_searches(sim) - before) / (r["requests"] + r["errors"])
                results[f"{name}/{limit}/{conc}"] = r
    return results


def _native_searches(sim: dict[str, Any]) -> int:
    stats = httpx.get(sim["stats"], timeout=10).json()["requests"]
    return sum(n for route, n in stats.items() if route.endswith("/archive/stac/search"))


def _report(results: dict[str, Any], names: list[str]) -> dict[str, float]:
    figures: dict[str, float] = {}
    print(f"  {'server':<22} limit conc   p50 ms    req/s  native/req  KiB/resp (gzip)")
    for key, r in results.items():
        name, lim, con = key.split("/")
        print(
            f"  {name:<22} {lim:>5} {con:>4} {r['p50_ms']:8.1f} {r['rps']:8.2f}"
            f" {r['native']:10.2f} {r['bytes'] / 1024:10.1f}"
            f"   ({r['requests']} requests, {r['errors']} failed)"
        )
    print("  ratios (same run): throughput bridge/eodag, p50 latency eodag/bridge")
    for bridge in names[:-1]:
        for limit in LIMITS:
            for conc in CONCURRENCY:
                b, e = results[f"{bridge}/{limit}/{conc}"], results[f"eodag/{limit}/{conc}"]
                tput, lat = b["rps"] / e["rps"], e["p50_ms"] / b["p50_ms"]
                figures[f"{bridge}_tput_ratio_l{limit}_c{conc}"] = tput
                mark = f"  (target >= {TARGET:.0f}x)" if limit == 100 else ""
                print(
                    f"    {bridge:<22} limit {limit:>3} conc {conc}:"
                    f" throughput x{tput:6.1f}  latency x{lat:6.1f}{mark}"
                )
    return figures


def run() -> dict[str, float]:
    """Measure and print the comparison; say exactly why when eodag cannot run."""
    header("bridge vs stac-fastapi-eodag: same Satellogic STAC upstream, one worker each")
    try:
        python = ensure_venv()
    except EodagUnavailable as exc:
        print(f"  SKIPPED: {exc}")
        return {}
    with live_bridge(nodelay=True) as upstream:  # the simulators, answering like a real API
        sim = upstream.simulator("satellogic")
        try:
            eodag, eodag_root = _start_eodag(python, sim)
        except EodagUnavailable as exc:
            print(f"  SKIPPED: {exc}")
            return {}
        try:
            with (
                live_bridge(upstream=upstream) as shipped,
                live_bridge(upstream=upstream, nodelay=True) as fixed,
            ):
                return _compare(shipped, fixed, eodag_root, sim)
        finally:
            eodag.terminate()
            eodag.wait(timeout=30)


def _compare(shipped: Live, fixed: Live, eodag_root: str, sim: dict[str, Any]) -> dict[str, float]:
    servers = {
        "bridge (as shipped)": (shipped.root + "search", "satellogic-l1d"),
        "bridge + TCP_NODELAY": (fixed.root + "search", "satellogic-l1d"),
        "eodag": (eodag_root + "search", "SATELLOGIC_L1D"),
    }
    for name, (url, collection) in servers.items():
        print(f"  paging check {name}: {_check_paging(url, collection)}")
    return _report(_measure(servers, sim), list(servers))


if __name__ == "__main__":
    run()
