"""Browser fixtures: the app served over real HTTP on loopback, and one headless Chromium for the session.

The browser is Debian's `chromium` with its `chromium-driver`, both found on PATH and passed to
Selenium by path, so Selenium Manager never downloads anything. Without them the tests marked
`browser` are skipped with one reason saying what is missing and how to install it; with
REQUIRE_BROWSER=1 (as .ci/run sets) they fail instead. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from werkzeug.serving import make_server

from cds.ruleset import RuleSet
from cds import create_app
from cds.opioid_safety import OpioidSafety
from cds.service import Evaluator

WINDOW = (1280, 1000)
# Longer pages are cut there: the whole /rules catalogue (about 47,000 px) would take 1.5 s and 8 MB,
# so the test shoots its top and the rule further down by itself.
MAX_SCREENSHOT_HEIGHT = 16_000


def _find_browser() -> tuple[str | None, str | None, str]:
    """(chromium, chromedriver, reason): the reason names what is missing and how to install it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium (or chromium-browser)", chromium),
                                       ("chromedriver", chromedriver)) if path is None]
    reason = (f"browser tests need Chromium and its driver: {' and '.join(missing)} not found on PATH; "
              "install Debian's chromium and chromium-driver packages "
              "(apt-get install chromium chromium-driver; .ci/run does)") if missing else ""
    return chromium, chromedriver, reason


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A skip mark (not a skip in the fixture) so that `-ra` folds them into one line with the reason.
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if not browser_items or _browser_required():
        return
    reason = _find_browser()[2]
    if reason:
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chrome_session() -> Iterator[WebDriver]:
    """One headless Chromium for every browser test (started once: about half a second)."""
    chromium, chromedriver, reason = _find_browser()
    if reason:  # only reached with REQUIRE_BROWSER=1: a missing browser is a failure then
        pytest.fail(reason, pytrace=False)
    assert chromium is not None and chromedriver is not None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}",
                     "--hide-scrollbars",  # overlay scrollbars, as on a phone: the viewport is the whole width
                     "--force-device-scale-factor=1", "--lang=en-US", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def web_url(ruleset: RuleSet,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as a real HTTP server on a free loopback port (threaded, as a browser needs), for the session."""
    database = tmp_path_factory.mktemp("browser") / "feedback.sqlite3"
    app = create_app({"TESTING": True, "RULESET": ruleset,
                      "HOOKS_AUTH": "off", "DATABASE_URL": f"sqlite:///{database}"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-tests-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        feedback = app.extensions.get("ldn_cds_hooks", {}).get("feedback")
        if feedback is not None:
            feedback.close()


@pytest.fixture()
def chrome(chrome_session: WebDriver, web_url: str) -> Iterator[WebDriver]:
    """The session's browser, on a blank page at the desktop size; emulation and permissions reset afterwards."""
    chrome_session.get("about:blank")
    yield chrome_session
    chrome_session.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    chrome_session.execute_cdp_cmd("Browser.resetPermissions", {})


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig: pytest.Config) -> Path:
    directory = pytestconfig.rootpath / "test-artifacts" / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture()
def screenshot(chrome: WebDriver, screenshot_dir: Path) -> Callable[..., Path]:
    """screenshot("01-opioid-conflict") saves the whole page (not just the window) as <name>.png, overwriting;
    screenshot(name, element) saves only that element (for a page too long to paint in one piece)."""

    def save(name: str, element: WebElement | None = None) -> Path:
        if element is None:
            size = chrome.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
        else:
            clip = chrome.execute_script(
                "const r = arguments[0].getBoundingClientRect();"
                "return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};", element)
        clip["height"] = min(clip["height"], MAX_SCREENSHOT_HEIGHT)
        shot = chrome.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "optimizeForSpeed": True,
            "clip": {**clip, "scale": 1}})
        path = screenshot_dir / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    return save
