"""The review's findings that only a real browser shows (headless Chromium, as in test_browser.py):
numbers typed as people type them, today in the browser's time zone, and the disclaimers in print."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

AS_OF = "2026-11-23"


def open_form(driver: WebDriver, web_url: str) -> None:
    driver.get(web_url + "/")
    WebDriverWait(driver, 10).until(EC.visibility_of_element_located((By.ID, "check-form")))


def type_into(driver: WebDriver, name: str, text: str) -> None:
    field = driver.find_element(By.ID, name)
    field.clear()
    driver.execute_script("arguments[0].focus()", field)
    driver.execute_cdp_cmd("Input.insertText", {"text": text})


def submit(driver: WebDriver) -> None:
    driver.execute_script("document.getElementById('as_of').value = arguments[0];", AS_OF)
    before = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, "check-button").click()
    WebDriverWait(driver, 10).until(EC.staleness_of(before))
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results, #error-summary"))


def test_numbers_are_sent_as_typed_and_read_on_the_server(chrome: WebDriver, web_url: str) -> None:
    open_form(chrome, web_url)
    type_into(chrome, "age", "52 years")
    type_into(chrome, "order", "LDN 1.5 mg at bedtime")
    assert chrome.find_element(By.ID, "age").get_property("value") == "52 years"  # not dropped by the browser
    submit(chrome)
    assert "whole years" in chrome.find_element(By.ID, "age-error").text
    type_into(chrome, "age", "60")
    type_into(chrome, "egfr", "25,5")
    chrome.execute_script("document.getElementById('egfr_date').value = '2026-11-13';")
    submit(chrome)
    renal = chrome.find_element(By.CSS_SELECTOR, '#results article[data-rule="LDN-REN-001"] .matched')
    assert "eGFR 25.5 mL/min/1.73m2" in renal.text  # not 255


@pytest.fixture()
def time_zone(chrome: WebDriver) -> Iterator[object]:
    def use(zone: str) -> None:
        chrome.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": zone})
    yield use
    chrome.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])  # UTC+14 and UTC-12: one differs from UTC
def test_the_as_of_date_and_the_date_limits_are_the_browsers_today(chrome: WebDriver, web_url: str, time_zone,
                                                                   zone: str) -> None:
    time_zone(zone)
    before = datetime.now(ZoneInfo(zone)).date().isoformat()
    open_form(chrome, web_url)
    found = chrome.execute_script(
        "return [document.getElementById('as_of').value, document.getElementById('alt_date').max,"
        " document.getElementById('birth_date').max];")
    after = datetime.now(ZoneInfo(zone)).date().isoformat()  # the same unless midnight passed meanwhile
    assert found[0] in (before, after) and found == [found[0]] * 3, (found, before)


def test_print_keeps_the_disclaimers(chrome: WebDriver, web_url: str) -> None:
    open_form(chrome, web_url)
    type_into(chrome, "order", "naltrexone 1 mcg twice daily")
    chrome.execute_script("document.getElementById('order_purpose').value = 'uldn';")
    type_into(chrome, "medications", "oxycodone 10 mg every 6 hours")
    submit(chrome)
    chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = chrome.execute_script(
            "const seen = s => { const e = document.querySelector(s); return !!e && getComputedStyle(e).display !== 'none'"
            "  && e.getClientRects().length > 0; };"
            "return ['.print-disclaimer', '#plan .plan-disclaimer', '#check-form'].map(seen);")
        texts = chrome.execute_script(
            "return ['.print-disclaimer', '#plan .plan-disclaimer'].map(s => document.querySelector(s).textContent);")
    finally:
        chrome.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown == [True, True, False]
    assert "Decision support, not a decision" in texts[0] and "not an order" in texts[1]
