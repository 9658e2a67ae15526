"""Headless Debian Chromium driven by Playwright, with the network cut off.

Playwright (from PyPI) brings its own driver but no browser download is needed:
it launches the system's /usr/bin/chromium. It was chosen over Selenium
because it needs no matching chromedriver, and over raw DevTools websockets
because request interception, console capture and waiting on a JavaScript
condition are one call each.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WEBGL_FLAGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


@dataclass
class PageLog:
    """What a page did besides drawing: requests that tried to leave, console errors, uncaught errors."""

    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@contextmanager
def chromium(
    viewport: tuple[int, int] = (1280, 860), *, offline: bool = True, webgl: bool = False
) -> Iterator[BrowserContext]:
    """A fresh Chromium profile with the network emulated offline.

    A page served by a local test server needs `offline=False` (Chromium's
    offline mode refuses loopback too); `guard_origin` then cuts every other host.
    `webgl` gives pages WebGL on the CPU (SwiftShader), for MapLibre GL.
    """
    with tempfile.TemporaryDirectory(prefix="gridmap-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS + (WEBGL_FLAGS if webgl else []),
            viewport={"width": viewport[0], "height": viewport[1]},
            offline=offline,
        )
        try:
            yield context
        finally:
            context.close()


def guard_origin(page: Page, origin: str) -> PageLog:
    """Refuse every request that leaves `origin` (the test server): the network is cut but for it."""
    log = PageLog()

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith((origin, *LOCAL_SCHEMES)):
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    return log


def open_map(context: BrowserContext, html: Path, timeout_ms: float = 30_000) -> tuple[Page, PageLog]:
    """Open a map file, refusing any non-local request, and wait until the page says it has rendered."""
    log = PageLog()
    page = context.new_page()

    def guard(route: Route) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda msg: log.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
    page.goto(html.resolve().as_uri(), wait_until="load", timeout=timeout_ms)
    try:
        page.wait_for_function("() => window.gridmap && gridmap.renderedAt !== null", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise AssertionError(f"{html.name} never rendered: {log}") from None
    return page, log
