"""End to end: the web page at / and /rules in a real headless Chromium, over real HTTP.

These tests rely only on the DOM contract of the page (ids, classes and data- attributes it
documents), never on other markup. Every wait is an explicit WebDriverWait on a contract
element; dates that matter are fixed through the `as_of` field. Each case leaves a full-page
screenshot in test-artifacts/screenshots/<nn>-<case>.png. Run only these: `pytest -m browser`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.browser

AS_OF = "2026-11-23"
WAIT_SECONDS = 10
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
SEVERITY_LABEL = {"critical": "Critical", "warning": "Warning", "info": "Info"}

Screenshot = Callable[..., Path]


class Page:
    """The contract's form and results, driven as a user would. Text goes in through the browser's own
    text input (Input.insertText: one call a field instead of one key event a character; the keyboard
    test presses real keys); dates are set directly, as typing a date depends on the browser's locale."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def wait(self, condition, message: str, seconds: float = WAIT_SECONDS):
        return WebDriverWait(self.driver, seconds).until(condition, message)

    def visible(self, css: str) -> WebElement:
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), f"{css} never became visible")

    def open(self, path: str = "/") -> None:
        self.driver.get(self.base_url + path)
        if path == "/":
            self.visible("#check-form")

    def field(self, name: str) -> WebElement:
        return self.driver.find_element(By.ID, name)

    def value(self, name: str) -> str:
        return str(self.field(name).get_property("value"))

    def fill(self, **values: str) -> None:
        kinds = self.driver.execute_script(
            "return arguments[0].map(n => { const f = document.getElementById(n);"
            "  return f ? [f.tagName.toLowerCase(), f.type] : null; });", list(values))
        for (name, value), kind in zip(values.items(), kinds):
            assert kind is not None, f"the form has no #{name}"
            field = self.field(name)
            if kind[0] == "select":
                Select(field).select_by_value(value)
            elif kind[1] == "date":
                self.driver.execute_script(
                    "const f = arguments[0]; f.value = arguments[1];"
                    "f.dispatchEvent(new Event('input', {bubbles: true}));"
                    "f.dispatchEvent(new Event('change', {bubbles: true}));", field, value)
            else:  # typed in one go, as the browser inserts a word from the keyboard (input events and all)
                field.clear()
                self.driver.execute_script("arguments[0].focus()", field)
                self.driver.execute_cdp_cmd("Input.insertText", {"text": value})
        held = self.values(*values)
        assert held == values, f"after filling in the form holds {held}"

    def values(self, *names: str) -> dict[str, str]:
        return dict(zip(names, self.driver.execute_script(
            "return arguments[0].map(n => document.getElementById(n).value);", list(names))))

    def submit(self, press: Callable[[], None] | None = None) -> None:
        """Send the form (by clicking Check unless `press` does it) and wait for the answer page."""
        blocked = self.driver.execute_script(
            "const form = document.getElementById('check-form');"
            "if (form.noValidate || form.checkValidity()) return null;"
            "return Array.from(form.elements).filter(e => e.willValidate && !e.checkValidity())"
            "  .map(e => '#' + e.id + ': ' + e.validationMessage);")
        assert not blocked, ("the browser's own validation stops the form before the server sees it "
                             f"(the contract has server-side errors): {blocked}")
        before = self.driver.find_element(By.TAG_NAME, "html")
        if press is None:
            self.field("check-button").click()
        else:
            press()
        self.wait(lambda _: gone(before), "submitting the form did not load a new page")
        try:
            self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#results, #error-summary"), "")
        except TimeoutException:
            body = " ".join(self.driver.find_element(By.TAG_NAME, "body").text.split())[:300]
            pytest.fail(f"the answer page has neither #results nor #error-summary; it says: {body!r}")

    def results(self) -> WebElement:
        errors = self.driver.find_elements(By.ID, "error-summary")
        assert not errors, f"expected results, got errors: {errors[0].text!r}"
        return self.visible("#results")

    def cards(self) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, "#results article.alert-card")

    def card(self, rule: str) -> WebElement:
        found = self.driver.find_elements(By.CSS_SELECTOR, f'#results article.alert-card[data-rule="{rule}"]')
        assert found, f"no card for {rule}; cards: {self.rules()}"
        assert len(found) == 1, f"{len(found)} cards for {rule}"
        return found[0]

    def rules(self) -> list[tuple[str | None, str | None]]:
        return [(c.get_attribute("data-rule"), c.get_attribute("data-severity")) for c in self.cards()]

    def understood(self) -> dict[str, dict[str, str]]:
        rows = {}
        for row in self.driver.find_elements(By.CSS_SELECTOR, "#understood tr.understood-line"):
            cells = {name: text(row.find_element(By.CSS_SELECTOR, f"td.{name}"))
                     for name in ("written", "ingredients", "classes", "daily-dose")}
            rows[cells["written"]] = cells
        return rows


def gone(element: WebElement) -> bool:
    """Whether the element's page was replaced. While it is being replaced ChromeDriver may answer
    neither yes nor no ("Node with given id does not belong to the document"): not yet, then."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException:
        return False
    return False


def text(element: WebElement) -> str:
    """The element's text whitespace-collapsed, also when it is in a closed <details> (textContent)."""
    return " ".join((element.get_attribute("textContent") or "").split())


def assert_card_shape(card: WebElement, severity: str) -> None:
    """A card as the contract draws it: severity in words and as a class, summary, the four sections."""
    rule = card.get_attribute("data-rule")
    assert card.get_attribute("data-severity") == severity, rule
    assert f"severity-{severity}" in (card.get_attribute("class") or "").split(), rule
    assert text(card.find_element(By.CSS_SELECTOR, ".severity-label")) == SEVERITY_LABEL[severity], rule
    assert text(card.find_element(By.CSS_SELECTOR, "h3.alert-summary")), f"{rule}: empty summary"
    for section in (".matched", ".why", ".todo", ".sources"):
        found = card.find_elements(By.CSS_SELECTOR, section)
        assert found and text(found[0]), f"{rule}: no {section} section, or it is empty"


def assert_ordered_by_severity(page: Page) -> None:
    severities = [severity or "" for _, severity in page.rules()]
    assert all(s in SEVERITY_ORDER for s in severities), severities
    assert severities == sorted(severities, key=SEVERITY_ORDER.__getitem__), \
        f"cards are not ordered critical → warning → info: {page.rules()}"


OPIOID_CONFLICT = {"age": "52", "sex": "male", "order": "naltrexone 4.5 mg at bedtime",
                   "medications": "Percocet 5/325 1 q6h prn", "as_of": AS_OF}


@pytest.fixture()
def page(chrome: WebDriver, web_url: str) -> Page:
    return Page(chrome, web_url)


def test_form_controls_follow_the_contract(page: Page, screenshot: Screenshot) -> None:
    page.open("/")
    screenshot("00-form")
    assert page.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    form = page.field("check-form")
    assert form.tag_name == "form" and (form.get_attribute("method") or "").lower() == "post"
    problems = page.driver.execute_script(
        "return arguments[0].flatMap(n => { const f = document.getElementById(n);"
        "  if (!f) return [`no #${n}`];"
        "  const out = f.name === n ? [] : [`#${n} has name=${f.name}`];"
        "  const label = document.querySelector(`label[for='${n}']`);"
        "  return label && label.textContent.trim() ? out : out.concat([`#${n} has no <label for>`]); });",
        ["age", "sex", "pregnancy", "lactation", "order", "order_purpose", "medications", "conditions",
         "alt", "alt_date", "ast", "ast_date", "bilirubin", "bilirubin_date", "egfr", "egfr_date",
         "creatinine", "creatinine_date", "hcg", "hcg_date", "urine_opioids", "urine_opioids_date",
         "years_on_opioids", "as_of"])
    assert not problems, problems
    assert page.field("medications").tag_name == "textarea"
    assert page.field("conditions").tag_name == "textarea"
    assert page.value("pregnancy") == "unknown" and page.value("lactation") == "unknown"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.value("as_of")), "as_of has no default date"
    button = page.field("check-button")
    assert button.get_attribute("type") == "submit" and button.text == "Check"
    assert not page.driver.find_elements(By.ID, "results")


def test_01_opioid_conflict(page: Page, screenshot: Screenshot) -> None:
    page.open("/")
    page.fill(**OPIOID_CONFLICT)
    page.submit()
    page.results()
    screenshot("01-opioid-conflict")

    cards = page.cards()
    assert cards, "no alert cards"
    assert page.rules()[0] == ("LDN-OPI-001", "critical"), page.rules()
    assert_card_shape(cards[0], "critical")
    assert cards[0].find_elements(By.CSS_SELECTOR, ".sources a[href^='http']"), \
        "LDN-OPI-001's sources have URLs (naltrexone labelling) but no link"
    assert_ordered_by_severity(page)
    assert not page.driver.find_elements(By.ID, "no-alerts")

    understood = page.understood()
    assert set(understood) == {"naltrexone 4.5 mg at bedtime", "Percocet 5/325 1 q6h prn"}, understood
    percocet = understood["Percocet 5/325 1 q6h prn"]
    assert "oxycodone" in percocet["ingredients"].lower(), percocet
    assert "opioid" in percocet["classes"].lower(), percocet
    assert re.search(r"oxycodone\b.*\b20(\.0+)? ?mg", percocet["daily-dose"]), percocet
    for control in ("print-button", "copy-button"):
        assert page.field(control).get_attribute("type") == "button"
    assert "LDN-OPI-001" in text(page.field("record-text"))


def test_02_pregnancy_status_unknown(page: Page, screenshot: Screenshot) -> None:
    page.open("/")
    page.fill(age="30", sex="female", pregnancy="unknown", order="LDN 1.5 mg at bedtime", as_of=AS_OF)
    page.submit()
    page.results()
    screenshot("02-pregnancy-unknown")

    assert_card_shape(page.card("LDN-PREG-002"), "info")
    assert "critical" not in {severity for _, severity in page.rules()}, page.rules()
    assert_ordered_by_severity(page)


def test_03_renal_egfr_below_30(page: Page, screenshot: Screenshot) -> None:
    page.open("/")
    page.fill(age="60", sex="male", order="LDN 1.5 mg at bedtime", egfr="25", egfr_date="2026-11-13",
              as_of=AS_OF)
    page.submit()
    page.results()
    screenshot("03-renal")

    card = page.card("LDN-REN-001")
    assert_card_shape(card, "warning")
    assert "25" in text(card.find_element(By.CSS_SELECTOR, ".matched")), text(card)
    assert_ordered_by_severity(page)

    # The same eGFR two years before the evaluation date says little about the kidney today.
    page.open("/")
    page.fill(age="60", sex="male", order="LDN 1.5 mg at bedtime", egfr="25", egfr_date="2024-11-13",
              as_of=AS_OF)
    page.submit()
    page.results()
    assert not {"LDN-REN-001", "LDN-REN-003"} & {rule for rule, _ in page.rules()}, page.rules()


def test_04_uldn_taper_plan(page: Page, screenshot: Screenshot) -> None:
    page.open("/")
    page.fill(age="60", sex="male", order="naltrexone 1 mcg twice daily", order_purpose="uldn",
              medications="oxycodone 10 mg every 6 hours", years_on_opioids="2", as_of=AS_OF)
    page.submit()
    page.results()
    plan = page.visible("#plan")
    screenshot("04-uldn-taper")

    assert plan.get_attribute("data-kind") == "taper"
    steps = plan.find_elements(By.CSS_SELECTOR, "table.plan-table tr.plan-step")
    assert len(steps) >= 2, f"{len(steps)} taper steps"
    assert all(text(step) for step in steps)
    chart = page.visible("svg#plan-chart")
    assert chart.get_attribute("role") == "img"
    assert chart.get_attribute("aria-labelledby") == "plan-chart-title"
    titles = chart.find_elements(By.CSS_SELECTOR, "title#plan-chart-title")
    assert titles and text(titles[0]), "the chart has no <title id=plan-chart-title> inside"
    assert chart.size["width"] > 100 and chart.size["height"] > 50, chart.size
    assert chart.find_elements(By.CSS_SELECTOR, "path, polyline, line, rect, circle"), "nothing drawn in the chart"


def test_05_invalid_age_is_reported_next_to_the_field(page: Page, screenshot: Screenshot) -> None:
    typed = {"age": "-3", "sex": "female", "order": "LDN 1.5 mg at bedtime",
             "medications": "tramadol 50mg bid\nNarcan kit", "as_of": AS_OF}
    page.open("/")
    page.fill(**typed)
    page.submit()
    summary = page.visible("#error-summary")
    error = page.visible("#age-error")
    screenshot("05-invalid-age")

    assert summary.get_attribute("role") == "alert"
    assert summary.find_elements(By.CSS_SELECTOR, 'a[href="#age"]'), f"no link to #age in {text(summary)!r}"
    assert "field-error" in (error.get_attribute("class") or "").split()
    assert text(error)
    age = page.field("age")
    assert page.driver.execute_script("return arguments[0].nextElementSibling", age) == error, \
        "#age-error is not right after the age field"
    assert age.get_attribute("aria-invalid") == "true"
    assert "age-error" in (age.get_attribute("aria-describedby") or "").split()
    assert page.values(*typed) == typed, "the form lost what was typed"
    assert not page.driver.find_elements(By.ID, "results")


def test_06_keyboard_only(page: Page, screenshot: Screenshot) -> None:
    """Tab through the form typing into the fields as they come, reach Check, press Enter."""
    page.open("/")
    typing = {"age": "45", "order": "LDN 1.5 mg at bedtime", "medications": "tramadol 50mg bid"}
    keys = ActionChains(page.driver)
    typed: list[str] = []
    for _ in range(100):
        keys.send_keys(Keys.TAB).perform()
        focused = page.driver.switch_to.active_element
        name = focused.get_attribute("id")
        if name in typing and name not in typed:
            keys.send_keys(typing[name]).perform()
            typed.append(name)
        if name == "check-button":
            break
    else:
        pytest.fail("100 presses of Tab never reached #check-button")
    assert sorted(typed) == sorted(typing), f"Tab reached the button before {set(typing) - set(typed)}"
    assert page.driver.execute_script(
        "const s = getComputedStyle(document.activeElement);"
        "return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';"), \
        "the focused Check button shows no focus indicator (outline or box-shadow)"
    page.submit(press=lambda: keys.send_keys(Keys.ENTER).perform())
    page.results()
    screenshot("06-keyboard")
    assert page.rules()[0] == ("LDN-OPI-001", "critical"), page.rules()


def test_07_results_fit_a_phone(page: Page, screenshot: Screenshot) -> None:
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": False})
    overflow = ("const d = document.documentElement;"
                "return {inner: window.innerWidth, client: d.clientWidth, scroll: d.scrollWidth,"
                "        body: document.body.scrollWidth};")
    page.open("/")
    sizes = page.driver.execute_script(overflow)
    assert sizes["inner"] == 375, sizes
    assert sizes["scroll"] <= sizes["client"], f"the form scrolls sideways at 375 px: {sizes}"
    page.fill(**OPIOID_CONFLICT)
    page.submit()
    page.results()
    screenshot("07-phone-375")

    sizes = page.driver.execute_script(overflow)
    assert sizes["scroll"] <= sizes["client"] and sizes["body"] <= sizes["client"], \
        f"the results scroll sideways at 375 px: {sizes}"
    for card in page.cards():
        right = page.driver.execute_script("return arguments[0].getBoundingClientRect().right", card)
        assert right <= sizes["client"], f"{card.get_attribute('data-rule')} ends at {right} px"


def test_08_copy_as_text(page: Page, screenshot: Screenshot) -> None:
    page.open("/")
    page.fill(**OPIOID_CONFLICT)
    page.submit()
    page.results()
    page.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": page.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    status = page.field("copy-status")
    assert status.get_attribute("aria-live") == "polite"
    page.field("copy-button").click()
    try:
        page.wait(lambda d: text(status), "")
    except TimeoutException:
        pytest.fail("#copy-status says nothing after clicking Copy as text")
    screenshot("08-copy")

    assert "Copied" in text(status), f"clipboard allowed, yet #copy-status says {text(status)!r}"
    copied = page.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('clipboard unreadable: ' + e));")
    record = page.field("record-text").get_attribute("textContent") or ""
    assert copied.strip() == record.strip(), "the clipboard does not hold #record-text"
    assert "LDN-OPI-001" in copied and "Percocet 5/325 1 q6h prn" in copied


def open_scenario(page: Page, scenario: WebElement) -> None:
    """Open a closed <details class="scenario"> by clicking its name, as a reader would."""
    if scenario.get_attribute("open") is not None:
        return
    name = scenario.find_element(By.TAG_NAME, "summary")
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", name)
    name.click()
    page.wait(lambda _: scenario.get_attribute("open") is not None, f"{text(name)!r} did not open")


def test_09_rules_catalogue(page: Page, screenshot: Screenshot) -> None:
    page.open("/rules")
    shown: dict[str, WebElement] = {}
    for rule in ("LDN-OPI-001", "CDC-REC11-001"):
        article = page.visible(f"article.rule#rule-{rule}")
        assert article.get_attribute("data-rule") == rule
        assert rule in text(article.find_element(By.TAG_NAME, "h3"))
        assert re.search(r"\b(Critical|Warning|Info)\b", article.text), f"{rule}: no severity label"
        conditions = article.find_elements(By.CSS_SELECTOR, ".rule-conditions li")
        assert conditions and all(text(c) for c in conditions), f"{rule}: no conditions in words"
        assert article.find_elements(By.CSS_SELECTOR, f'a[href$="/v1/rules/{rule}"]'), \
            f"{rule}: no link to /v1/rules/{rule}"
        scenarios = article.find_elements(By.CSS_SELECTOR, ".rule-scenarios details.scenario")
        assert scenarios, f"{rule}: no scenario"
        first = scenarios[0]
        summary = first.find_element(By.TAG_NAME, "summary")
        assert text(summary), f"{rule}: a scenario without a name"
        open_scenario(page, first)
        steps = first.find_elements(By.CSS_SELECTOR, "ol li")
        assert steps and all(step.is_displayed() and text(step) for step in steps), f"{rule}: no visible steps"
        shown[rule] = article
    # CDC-REC11-001's Scenario Outlines: their Examples rows are shown as tables.
    outlines = [details for details in shown["CDC-REC11-001"].find_elements(
        By.CSS_SELECTOR, ".rule-scenarios details.scenario") if details.find_elements(By.TAG_NAME, "table")]
    assert outlines, "CDC-REC11-001: no scenario with an Examples table"
    open_scenario(page, outlines[0])
    assert outlines[0].find_element(By.TAG_NAME, "table").is_displayed(), "CDC-REC11-001: Examples not shown"
    # The catalogue is too long for one picture: its top (index, LDN-OPI-001), then CDC-REC11-001.
    screenshot("09-rules")
    screenshot("09-rules-cdc-rec11", shown["CDC-REC11-001"])
