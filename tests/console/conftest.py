"""Drives the web console in a real browser: Debian's chromium through Playwright.

The server is the real binary, started by the SDK suite's harness (tests/python/conftest.py:
ORGCERTS_BIN, a fresh database per test, a known bootstrap admin key). The browser is the
system's chromium (CHROMIUM, default /usr/bin/chromium): Playwright's own browser download is
never used. Every console message of type error (a Content-Security-Policy violation among them)
and every uncaught page error fails the test. Screenshots go to target/console/.
"""

import importlib.util
import os
import pathlib

import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "target" / "console"

_spec = importlib.util.spec_from_file_location("sdk_harness", ROOT / "tests" / "python" / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)
make_ca = harness.make_ca


@pytest.fixture
def server(monkeypatch):
    # The console's requests are not the Python SDK's: keep them out of its compatibility log.
    monkeypatch.delenv("ORGCERTS_COMPAT_DIR", raising=False)
    binary = os.environ.get("ORGCERTS_BIN", str(ROOT / "target" / "debug" / "orgcerts"))
    with harness.fresh_database() as database_url:
        srv = harness.Server(binary, database_url)
        try:
            yield srv
        finally:
            srv.stop()
        assert srv.key not in "".join(srv.log), "the admin key appeared in the server log"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


class Console:
    """A browser tab on the console, collecting what its console and the page report."""

    def __init__(self, browser, server, width=1280, height=900):
        self.server = server
        self.origin = f"http://{server.addr}"
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        # Statuses of /v1 answers a test provokes on purpose: chromium reports each such answer
        # as a console error of its own ("Failed to load resource"), which is then expected.
        self.expected_statuses: set[int] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))

    def _console(self, msg):
        if msg.type != "error":
            return
        url = msg.location.get("url", "")
        expected = any(
            msg.text.startswith(f"Failed to load resource: the server responded with a status of {s} ")
            for s in self.expected_statuses
        )
        if not (expected and url.startswith(self.origin + "/v1/")):
            self.problems.append(f"console: {msg.text} ({url})")

    def open(self, path="/"):
        return self.page.goto(self.origin + path)

    def sign_in(self, key=None):
        self.page.get_by_label("Admin API key").fill(key or self.server.key)
        self.page.get_by_role("button", name="Sign in").click()

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)  # no hover effect in the picture
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self):
        self.context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        for name in ("console", "narrow_console"):
            tab = item.funcargs.get(name)
            if tab is not None:
                tab.screenshot(f"failed-{item.name}")
    return report


def open_tab(browser, server, **viewport):
    tab = Console(browser, server, **viewport)
    yield tab
    tab.close()
    assert tab.problems == [], "\n".join(tab.problems)


@pytest.fixture
def console(browser, server):
    yield from open_tab(browser, server)


@pytest.fixture
def narrow_console(browser, server):
    yield from open_tab(browser, server, width=360, height=740)
