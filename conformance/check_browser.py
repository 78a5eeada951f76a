"""Check 6: stac-browser, served by the bridge at ``/browser/``, in headless Chromium.

Debian's ``chromium`` is driven by Playwright (``executable_path``; Playwright's own browser
download is never used). Every request to anything but the bridge's host is aborted: no
basemap tiles, no schema fetches leave the machine. The check, as a person would:

1. opens ``/browser/`` and sees every collection of every provider listed;
2. logs in with the demo key through stac-browser's own dialog, and sees later API
   requests carry it in ``X-API-Key``;
3. searches items with a filter built in the search form (cloud cover < 10) and sees
   results, each of which really matches;
4. opens the first result and sees its thumbnail loaded.

Screenshots of 1, 3 and 4 are written beside the report (``conformance/screenshots/
browser-*.png``). Every STAC document
the browser received is handed to the schema check.
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from conformance.core import FAIL, PROVIDERS, Cases, CheckResult, Context, expect

NAME = "stac-browser"
TITLE = "stac-browser at /browser/ in headless Chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FILTER_PROPERTY = "eo:cloud_cover"
FILTER_BELOW = 10
TIMEOUT_MS = 60_000
SCREENSHOTS = {
    "collections": "browser-1-collections.png",
    "search": "browser-2-filtered-search.png",
    "item": "browser-3-item-thumbnail.png",
}


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _config_case(ctx: Context, cases: Cases) -> bool:
    with cases.case("/browser/ is built and configured for this bridge") as notes:
        resp = httpx.get(ctx.url("browser/config.js"), timeout=30)
        expect(
            resp.status_code == 200,
            f"/browser/config.js: {resp.status_code}; stac-browser is not built "
            "(`make browser` needs Node.js)",
        )
        expect(f'"catalogUrl":"{ctx.root}"' in resp.text, f"catalogUrl is not {ctx.root}")
        expect('"name":"X-API-Key"' in resp.text, "no API-key header in authConfig")
        index = httpx.get(ctx.url("browser/"), timeout=30)
        expect(index.status_code == 200 and "stac-browser" in index.text, "no index.html")
        notes.append("config.js points at the bridge root and sends X-API-Key")
        return True
    return False


class Session:
    """One Chromium page on the bridge, with what it requested and received."""

    def __init__(self, ctx: Context, page: Any) -> None:
        self.ctx = ctx
        self.page = page
        self.host = urlsplit(ctx.root).netloc
        self.blocked: list[str] = []
        self.api_requests: list[Any] = []
        self.responses: list[Any] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.route("**/*", self._route)
        page.on("request", self._request)
        page.on("response", self._response)

    def _route(self, route: Any) -> None:
        # Only the bridge (and the sandbox's loopback storage it redirects to) is reachable.
        host = urlsplit(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _request(self, request: Any) -> None:
        if self._is_api(request.url):
            self.api_requests.append(request)

    def _response(self, response: Any) -> None:
        if self._is_api(response.url) and "json" in response.headers.get("content-type", ""):
            self.responses.append(response)

    def _is_api(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.netloc == self.host and not parts.path.startswith("/browser/")

    def shot(self, key: str) -> Path:
        folder = self.ctx.screenshots or self.ctx.output
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / SCREENSHOTS[key]
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def record(self) -> int:
        """Hand every STAC JSON document received to the schema check."""
        count = 0
        for response in self.responses:
            try:
                body = response.json()
            except Exception:  # a body Chromium no longer holds: nothing to validate
                continue
            method = response.request.method
            self.ctx.recorder.add(NAME, method, response.url, body)
            count += 1
        return count


def _collections(ctx: Context, s: Session, cases: Cases, titles: dict[str, str]) -> None:
    with cases.case("every provider's collections are listed") as notes:
        s.page.goto(ctx.url("browser/"))
        for title in titles.values():
            s.page.get_by_text(title, exact=True).first.wait_for()
        providers = {cid.split("-")[0] for cid in titles}
        expect(providers >= set(PROVIDERS), f"collections of {sorted(providers)} only")
        shot = _shot(s, "collections")
        notes.append(f"{len(titles)} collections of {len(providers)} providers; {shot}")


def _login(ctx: Context, s: Session, cases: Cases) -> None:
    with cases.case("logs in with the API key and sends it") as notes:
        s.page.get_by_role("button", name="Log in").click()
        s.page.locator("input[type=password]").fill(ctx.api_key)
        before = len(s.api_requests)
        with s.page.expect_request(lambda r: s._is_api(r.url)):
            s.page.get_by_role("button", name="Submit").first.click()
        s.page.get_by_role("button", name="Log out").wait_for()
        sent = [r.headers.get("x-api-key") for r in s.api_requests[before:]]
        expect(sent and all(k == ctx.api_key for k in sent), f"X-API-Key after login: {sent}")
        notes.append(f"API requests after login: {len(sent)}, each with X-API-Key")


def _search(ctx: Context, s: Session, cases: Cases) -> list[str]:
    shown: list[str] = []
    with cases.case(f"a filtered item search ({FILTER_PROPERTY} < {FILTER_BELOW})") as notes:
        page = s.page
        page.goto(ctx.url("browser/#/search"))
        page.get_by_role("tab", name="Search for Items").click()
        page.get_by_role("button", name="Add filter").click()
        page.locator(".dropdown-menu.show .dropdown-item", has_text=FILTER_PROPERTY).click()
        page.locator(".op .dropdown-toggle-split").click()
        page.locator(".op .dropdown-item", has_text="less than").first.click()
        page.locator("input.value").fill(str(FILTER_BELOW))
        with page.expect_response(
            lambda r: s._is_api(r.url) and urlsplit(r.url).path == "/search"
        ) as info:
            page.get_by_role("button", name="Submit").last.click()
        response = info.value
        body = response.request.post_data_json or {}
        expect(response.status == 200, f"POST /search: {response.status} {response.text()[:300]}")
        expect(FILTER_PROPERTY in str(body.get("filter")), f"no filter sent: {body}")
        features = response.json()["features"]
        expect(features, "the filtered search returned no items")
        values = [f["properties"].get(FILTER_PROPERTY) for f in features]
        expect(
            all(isinstance(v, int | float) and v < FILTER_BELOW for v in values),
            f"{FILTER_PROPERTY} of the results: {values}",
        )
        links = page.locator("a[href*='/items/']")
        links.first.wait_for()
        shown = [str(link.get_attribute("href")) for link in links.all()]
        for card in page.locator("img.thumbnail").all():  # lazy: loaded once in view
            card.scroll_into_view_if_needed()
        expect(
            {h.rsplit("/", 1)[-1] for h in shown} <= {f["id"] for f in features},
            "the page shows items the search did not return",
        )
        _wait_images(page, "img.thumbnail")
        sent = orjson.dumps(body.get("filter")).decode()
        notes.append(
            f"{len(features)} items on the first page, {len(set(shown))} shown, each "
            f"with {FILTER_PROPERTY} < {FILTER_BELOW}; {_shot(s, 'search')}; filter sent: {sent}"
        )
    return shown


def _item(ctx: Context, s: Session, cases: Cases, shown: list[str]) -> None:
    with cases.case("opens an item and sees its thumbnail") as notes:
        expect(shown, "no search result to open")
        page = s.page
        page.locator(f"a[href='{shown[0]}']").first.click()
        item_id = shown[0].rsplit("/", 1)[-1]
        page.get_by_role("heading", name=item_id).first.wait_for()
        page.get_by_role("tab", name="Thumbnails").click()  # beside the map
        thumb = page.locator("img.thumbnail").first
        thumb.wait_for()
        _wait_images(page, "img.thumbnail")
        loaded = thumb.evaluate("img => img.complete && img.naturalWidth > 0")
        expect(loaded, f"thumbnail {thumb.get_attribute('src')} did not load")
        notes.append(f"{item_id}: thumbnail {thumb.evaluate('i => i.naturalWidth')} px wide")
        notes.append(_shot(s, "item"))


def _wait_images(page: Any, selector: str) -> None:
    """Wait until every image matching ``selector`` has loaded its real source (lazy cards
    show an inline placeholder until then)."""
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel)].every(
            i => i.complete && i.naturalWidth > 0 && !i.currentSrc.startsWith('data:'))""",
        arg=selector,
        timeout=TIMEOUT_MS,
    )
    page.evaluate("window.scrollTo(0, 0)")


def _shot(s: Session, key: str) -> str:
    return f"screenshot {s.shot(key).name}"


def run(ctx: Context) -> CheckResult:
    cases = Cases()
    versions = {"playwright": version("playwright")}
    executable = chromium_path()
    if executable is None:
        cases.add("chromium", FAIL, "Debian chromium is missing: `make conformance` installs it")
        return CheckResult(NAME, TITLE, False, [], cases.cases, versions)
    if not _config_case(ctx, cases):
        return CheckResult(NAME, TITLE, False, [], cases.cases, versions)
    collections = httpx.get(ctx.url("collections"), timeout=30).json()["collections"]
    titles = {c["id"]: c.get("title") or c["id"] for c in collections}

    from playwright.sync_api import sync_playwright

    details: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        versions["Chromium"] = browser.version
        versions["stac-browser"] = _stac_browser_version()
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            session = Session(ctx, page)
            _collections(ctx, session, cases, titles)
            _login(ctx, session, cases)
            shown = _search(ctx, session, cases)
            _item(ctx, session, cases, shown)
            received = session.record()
            details.append(
                f"{received} JSON responses handed to the schema check; "
                f"{len(session.blocked)} requests off the machine aborted"
            )
        finally:
            browser.close()
    return CheckResult(NAME, TITLE, cases.passed, details, cases.cases, versions)


def _stac_browser_version() -> str:
    """The stac-browser version the build pins (browser/package.json)."""
    pinned = Path(__file__).resolve().parent.parent / "browser" / "package.json"
    deps = orjson.loads(pinned.read_bytes()).get("dependencies", {})
    return str(deps.get("@radiantearth/stac-browser", "unknown"))
