"""The usage dashboard (`/dashboard`) in a real browser: headless Chromium driven by Selenium.

A gateway of its own serves the offline `echo` model to two keys and has an admin key. Requests
made through the `openai` SDK seed its usage: alice's key 3 with `user_id` u1 and 2 with u2, bob's
key 4 with u3 and one for a model that does not exist (404, an error row), and one with a key the
gateway does not know (401, an error row of no key and no user). The page is then read as
a person would: sign in with alice's key (her usage only), change the grouping and the window,
sign out, sign in with the admin key (every key, the failed request among the recent errors), a
wrong key, a phone-sized screen, the dark scheme.

Chromium and chromedriver come from SLUICE_CHROMIUM and SLUICE_CHROMEDRIVER (scripts/test sets them
from scripts/browser-env); when unset, scripts/browser-env is run here.
SLUICE_SCREENSHOT=1 also saves the admin view at 1280x900 to docs/dashboard.png (README shows it).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import openai
import pytest
from conftest import REPO, _serve
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_S = 10
ADMIN_KEY = "sk-dash-admin"
WRONG_KEY = "sk-dash-not-a-key"
ERROR_MODEL = "no-such-model"
# USD per million tokens of the echo model, so costs are small but not zero.
PRICE_IN, PRICE_OUT = 2.0, 8.0
# Every key's monthly budget (the `budget` plugin), shown with its spend.
BUDGET_USD = 1
VIEWPORT = (1280, 900)
PHONE = (390, 844)
SCREENSHOT = REPO / "docs" / "dashboard.png"


@dataclass(frozen=True)
class Key:
    id: str
    secret: str
    owner: str


ALICE = Key("alice-key", "sk-dash-alice", "alice")
BOB = Key("bob-key", "sk-dash-bob", "bob")
# (key, user_id, requests) made with the echo model.
SEED = [(ALICE, "u1", 3), (ALICE, "u2", 2), (BOB, "u3", 4)]


def _config(data_dir: Path) -> str:
    keys = "".join(
        f"""
[[plugins.config.keys]]
id = "{k.id}"
owner = "{k.owner}"
sha256 = "{hashlib.sha256(k.secret.encode()).hexdigest()}"
models = []
"""
        for k in (ALICE, BOB)
    )
    return f"""
[storage]
data_dir = {json.dumps(str(data_dir))}

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
{keys}
[[plugins]]
name = "budget"
stage = "policy"
source = "builtin:budget"
[plugins.config]
key = {{ month = {BUDGET_USD} }}

[[plugins]]
name = "cost"
stage = "enrich"
source = "builtin:cost"
[pricing.models."echo"]
input = {PRICE_IN}
output = {PRICE_OUT}

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "echo"
provider = "echo"
"""


@dataclass
class Usage:
    """What the seeding requests used, per key: the page must show exactly this."""

    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass
class Gateway:
    root: str
    usage: dict[str, Usage]
    users: dict[str, dict[str, int]]  # key id -> user -> requests
    failed_request_id: str
    # Requests with a key the gateway refused (no key, no user).
    refused: int


def _seed(root: str) -> Gateway:
    usage = {k.id: Usage() for k in (ALICE, BOB)}
    users: dict[str, dict[str, int]] = {ALICE.id: {}, BOB.id: {}}
    for key, user, n in SEED:
        with openai.OpenAI(base_url=f"{root}/v1", api_key=key.secret, max_retries=0) as client:
            for i in range(n):
                raw = client.chat.completions.with_raw_response.create(
                    model="echo",
                    messages=[{"role": "user", "content": f"hello from {user} number {i}"}],
                    extra_body={"user_id": user},
                )
                done = raw.parse()
                u = usage[key.id]
                u.requests += 1
                u.prompt_tokens += done.usage.prompt_tokens
                u.completion_tokens += done.usage.completion_tokens
                u.cost_usd += float(raw.headers["x-sluice-cost-usd"])
                users[key.id][user] = users[key.id].get(user, 0) + 1
    with openai.OpenAI(base_url=f"{root}/v1", api_key=BOB.secret, max_retries=0) as client:
        with pytest.raises(openai.NotFoundError) as failed:
            client.chat.completions.create(
                model=ERROR_MODEL,
                messages=[{"role": "user", "content": "this model does not exist"}],
                extra_body={"user_id": "u3"},
            )
    usage[BOB.id].requests += 1
    usage[BOB.id].errors += 1
    users[BOB.id]["u3"] += 1
    request_id = failed.value.response.headers.get("x-request-id", "")
    assert request_id, "the 404 carries its request id"
    with openai.OpenAI(base_url=f"{root}/v1", api_key=WRONG_KEY, max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "refused"}]
            )
    return Gateway(root, usage, users, request_id, refused=1)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The dashboard's gateway, its usage seeded."""
    base = tmp_path_factory.mktemp("dashboard")
    config = base / "gateway.toml"
    config.write_text(_config(base / "data"))
    with _serve(config, base, {"SLUICE_ADMIN_KEY": ADMIN_KEY}) as root:
        yield _seed(root)


def _browser_paths() -> tuple[str, str]:
    """(chromium, chromedriver): from the environment, else from scripts/browser-env."""
    chromium = os.environ.get("SLUICE_CHROMIUM")
    driver = os.environ.get("SLUICE_CHROMEDRIVER")
    if chromium and driver:
        return chromium, driver
    out = subprocess.run(
        [str(REPO / "scripts" / "browser-env")], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        pytest.fail(f"scripts/browser-env failed:\n{out.stderr}")
    driver_path, chromium_path = out.stdout.strip().splitlines()[-2:]
    return chromium or chromium_path, driver or driver_path


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium through chromedriver (no Selenium Manager: both paths are given)."""
    chromium, chromedriver = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
        "--lang=en-US",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(WAIT_S)
    try:
        _viewport(driver, *VIEWPORT)
        yield driver
    finally:
        driver.quit()


# --- Reading the page ------------------------------------------------------------------------


def _viewport(driver: WebDriver, width: int, height: int) -> None:
    """The page's viewport exactly (a headless window's size includes no viewport guarantee)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _wait(driver: WebDriver, what: str, until) -> object:
    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.05).until(until)
    except TimeoutException:
        status = driver.find_element(By.ID, "status").text
        error = driver.find_element(By.ID, "signin-error").text
        pytest.fail(f"timed out waiting for {what} (status {status!r}, sign-in error {error!r})")


def _testid(driver: WebDriver, name: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')


def _open(driver: WebDriver, root: str) -> None:
    """A fresh page with no key kept."""
    driver.get(f"{root}/dashboard")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{root}/dashboard")
    _wait(driver, "the sign-in form", lambda d: _testid(d, "key-input").is_displayed())


def _ready(driver: WebDriver, since: str = "24h", group_by: str = "user") -> None:
    """Waits until the page shows the summary for `since` and `group_by`."""
    dash = driver.find_element(By.ID, "dash-view")

    def shown(_):
        return (
            dash.get_attribute("data-state") == "ready"
            and dash.get_attribute("data-since") == since
            and dash.get_attribute("data-group-by") == group_by
        )

    _wait(driver, f"the summary for since={since}, group_by={group_by}", shown)


def _sign_in(driver: WebDriver, root: str, key: str) -> None:
    _open(driver, root)
    _testid(driver, "key-input").send_keys(key)
    _testid(driver, "sign-in").click()


def _choose(driver: WebDriver, testid: str, value: str) -> None:
    Select(_testid(driver, testid)).select_by_value(value)


def _total(driver: WebDriver, name: str) -> tuple[str, float]:
    """A total's text and its raw value."""
    el = _testid(driver, f"total-{name}")
    return el.text, float(el.get_attribute("data-value"))


def _rows(driver: WebDriver, table: str) -> dict[str, dict[str, str]]:
    """A group table's rows: group -> column -> raw value (`data-value`, else the text)."""
    rows = {}
    for tr in _testid(driver, table).find_elements(By.CSS_SELECTOR, "tbody tr[data-group]"):
        cells = tr.find_elements(By.CSS_SELECTOR, "td[data-col]")
        rows[tr.get_attribute("data-group")] = {
            td.get_attribute("data-col"): td.get_attribute("data-value") or td.text for td in cells
        }
    return rows


def _counts(driver: WebDriver, table: str) -> dict[str, int]:
    return {g: int(cols["requests"]) for g, cols in _rows(driver, table).items()}


def _js_errors(driver: WebDriver) -> list[str]:
    """Console messages of the page's script (failed requests the test causes are not ones)."""
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e.get("level") == "SEVERE" and e.get("source") != "network"
    ]


# --- The tests ---------------------------------------------------------------------------------


def test_the_page_loads_nothing_from_elsewhere(gateway: Gateway) -> None:
    with urllib.request.urlopen(f"{gateway.root}/dashboard", timeout=WAIT_S) as resp:
        page = resp.read().decode()
        assert resp.headers["content-type"].startswith("text/html")
        csp = resp.headers["content-security-policy"]
    assert "connect-src 'self'" in csp
    # The only URL in the page is SVG's namespace (not a request).
    urls = {u for u in page.split('"') if "://" in u}
    assert urls == {"http://www.w3.org/2000/svg"}, urls
    assert "<script src" not in page and "<link" not in page


def test_a_key_sees_only_its_own_usage(gateway: Gateway, browser: WebDriver) -> None:
    _sign_in(browser, gateway.root, ALICE.secret)
    _ready(browser)
    assert _testid(browser, "scope").text == f"key {ALICE.id}"
    alice = gateway.usage[ALICE.id]
    assert _total(browser, "requests") == (str(alice.requests), alice.requests)
    assert _total(browser, "errors") == ("0", 0)
    assert _total(browser, "prompt-tokens")[1] == alice.prompt_tokens
    assert _total(browser, "completion-tokens")[1] == alice.completion_tokens
    cost_text, cost = _total(browser, "cost")
    assert cost == pytest.approx(alice.cost_usd, abs=1e-9) and cost > 0
    assert cost_text.startswith("$") and float(cost_text[1:]) > 0
    # Grouped by user (the default): u1 and u2, not bob's u3.
    assert _counts(browser, "groups") == {"u1": 3, "u2": 2}
    assert _counts(browser, "top-users") == {"u1": 3, "u2": 2}
    assert list(_rows(browser, "groups")) == ["u1", "u2"], "sorted by requests"
    errors = _testid(browser, "recent-errors")
    assert errors.find_elements(By.CSS_SELECTOR, "tbody tr[data-request-id]") == []
    # The chart has one bar slot per bucket and the requests drawn.
    chart = _testid(browser, "chart-requests")
    assert chart.find_elements(By.CSS_SELECTOR, "svg g[data-t]")
    assert chart.find_elements(By.CSS_SELECTOR, 'rect[data-series="requests"]')
    assert _js_errors(browser) == []


def _budgets(browser: WebDriver) -> dict[str, tuple[float, float]]:
    """The budgets table: `scope:id:period` -> (spent, limit) in USD."""
    table = _testid(browser, "budgets")
    out = {}
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr[data-budget]"):
        value = lambda col: float(  # noqa: E731
            row.find_element(By.CSS_SELECTOR, f'td[data-col="{col}"]').get_attribute("data-value")
        )
        out[row.get_attribute("data-budget")] = (value("spent_usd"), value("limit_usd"))
    return out


def test_budgets_show_spend_against_each_limit(gateway: Gateway, browser: WebDriver) -> None:
    _sign_in(browser, gateway.root, ALICE.secret)
    _ready(browser)
    assert _testid(browser, "budgets").is_displayed()
    budgets = _budgets(browser)
    assert list(budgets) == [f"key:{ALICE.id}:month"], "only her own key's budget"
    spent, limit = budgets[f"key:{ALICE.id}:month"]
    assert limit == BUDGET_USD
    assert spent == pytest.approx(gateway.usage[ALICE.id].cost_usd, abs=1e-9) and spent > 0
    row = _testid(browser, "budgets").find_element(By.CSS_SELECTOR, "tbody tr[data-budget]")
    assert row.find_element(By.TAG_NAME, "meter").get_attribute("value") is not None
    _testid(browser, "sign-out").click()
    _wait(browser, "the sign-in form", lambda d: _testid(d, "key-input").is_displayed())
    _sign_in(browser, gateway.root, ADMIN_KEY)
    _ready(browser)
    budgets = _budgets(browser)
    assert set(budgets) == {f"key:{ALICE.id}:month", f"key:{BOB.id}:month"}
    assert budgets[f"key:{BOB.id}:month"][0] == pytest.approx(
        gateway.usage[BOB.id].cost_usd, abs=1e-9
    )
    assert _js_errors(browser) == []


def test_grouping_and_window_refetch(gateway: Gateway, browser: WebDriver) -> None:
    _sign_in(browser, gateway.root, ALICE.secret)
    _ready(browser)
    _choose(browser, "group-by", "model")
    _ready(browser, group_by="model")
    assert _counts(browser, "groups") == {"echo": 5}
    assert _testid(browser, "groups").find_element(By.ID, "group-col").text == "Model"
    _choose(browser, "group-by", "provider")
    _ready(browser, group_by="provider")
    assert _counts(browser, "groups") == {"echo": 5}
    _choose(browser, "since", "1h")
    _ready(browser, since="1h", group_by="provider")
    assert _total(browser, "requests")[1] == 5
    _choose(browser, "since", "30d")
    _ready(browser, since="30d", group_by="provider")
    assert _total(browser, "requests")[1] == 5
    # The second chart switches between tokens and cost.
    _testid(browser, "show-cost").click()
    second = _testid(browser, "chart-second")
    cost_bars = 'rect[data-series="cost_usd"]'
    _wait(browser, "the cost chart", lambda _: second.find_elements(By.CSS_SELECTOR, cost_bars))
    assert _testid(browser, "show-cost").get_attribute("aria-pressed") == "true"
    assert _js_errors(browser) == []


def test_sign_out_then_the_admin_sees_every_key(gateway: Gateway, browser: WebDriver) -> None:
    _sign_in(browser, gateway.root, ALICE.secret)
    _ready(browser)
    _testid(browser, "sign-out").click()
    _wait(browser, "the sign-in form", lambda d: _testid(d, "key-input").is_displayed())
    assert not browser.find_element(By.ID, "dash-view").is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0
    left = _testid(browser, "total-requests").get_attribute("textContent")
    assert left == "–", "nothing of alice's is left"

    _testid(browser, "key-input").send_keys(ADMIN_KEY)
    _testid(browser, "sign-in").click()
    _ready(browser)
    assert _testid(browser, "scope").text == "all keys"
    everyone = sum(u.requests for u in gateway.usage.values()) + gateway.refused
    assert _total(browser, "requests")[1] == everyone
    assert _total(browser, "errors")[1] == 1 + gateway.refused
    # The refused request has no user: "(none)", and never among the top users.
    assert _counts(browser, "groups") == {"u1": 3, "u2": 2, "u3": 5, "": gateway.refused}
    assert _counts(browser, "top-users") == {"u1": 3, "u2": 2, "u3": 5}
    none = _testid(browser, "groups").find_element(By.CSS_SELECTOR, 'tr[data-group=""] td')
    assert none.text == "(none)"

    _choose(browser, "group-by", "key")
    _ready(browser, group_by="key")
    by_key = _rows(browser, "groups")
    assert {k: int(v["requests"]) for k, v in by_key.items()} == {
        ALICE.id: 5,
        BOB.id: 5,
        "": gateway.refused,
    }
    assert int(by_key[BOB.id]["errors"]) == 1 and int(by_key[ALICE.id]["errors"]) == 0
    bob = gateway.usage[BOB.id]
    assert int(by_key[BOB.id]["prompt_tokens"]) == bob.prompt_tokens

    row = _testid(browser, "recent-errors").find_element(
        By.CSS_SELECTOR, f'tbody tr[data-request-id="{gateway.failed_request_id}"]'
    )
    cells = {td.get_attribute("data-col"): td.text for td in row.find_elements(By.TAG_NAME, "td")}
    assert cells["request_id"] == gateway.failed_request_id
    assert cells["key"] == BOB.id
    assert cells["user"] == "u3"
    assert cells["endpoint"] == "chat.completions"
    assert cells["model"] == ERROR_MODEL
    assert cells["status"] == "404"

    # The live rate arrives (polled every 2 s).
    live = _testid(browser, "live-rps")
    _wait(browser, "the live rate", lambda _: live.get_attribute("data-value") is not None)
    assert float(live.get_attribute("data-value")) >= 0
    assert _js_errors(browser) == []

    if os.environ.get("SLUICE_SCREENSHOT") == "1":
        _choose(browser, "group-by", "user")
        _ready(browser)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(SCREENSHOT))


def test_a_wrong_key_is_refused(gateway: Gateway, browser: WebDriver) -> None:
    _sign_in(browser, gateway.root, WRONG_KEY)
    error = _testid(browser, "signin-error")
    _wait(browser, "the refusal", lambda _: error.text)
    assert error.text == "That key is not valid."
    assert _testid(browser, "key-input").is_displayed()
    assert not browser.find_element(By.ID, "dash-view").is_displayed()
    assert browser.execute_script("return sessionStorage.length") == 0
    assert _js_errors(browser) == []


def test_the_api_refuses_bad_keys_and_parameters(gateway: Gateway) -> None:
    def get(path: str, key: str) -> tuple[int, dict]:
        req = urllib.request.Request(
            f"{gateway.root}/dashboard/api/{path}", headers={"Authorization": f"Bearer {key}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=WAIT_S) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    status, body = get("summary?since=24h&group_by=user", WRONG_KEY)
    assert status == 401 and "message" in body["error"]
    status, body = get("summary?since=forever&group_by=user", ALICE.secret)
    assert status == 400 and body["error"]["param"] == "since"
    status, body = get("summary?since=24h&group_by=colour", ALICE.secret)
    assert status == 400 and body["error"]["param"] == "group_by"
    status, body = get("live", BOB.secret)
    assert status == 200 and body["window_s"] > 0 and body["rps"] >= 0


def test_a_phone_scrolls_tables_not_the_page(gateway: Gateway, browser: WebDriver) -> None:
    _viewport(browser, *PHONE)
    try:
        _sign_in(browser, gateway.root, ADMIN_KEY)
        _ready(browser)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than a phone"
        wrap = _testid(browser, "recent-errors").find_element(By.XPATH, "..")
        assert wrap.value_of_css_property("overflow-x") == "auto"
    finally:
        _viewport(browser, *VIEWPORT)


def test_dark_scheme(gateway: Gateway, browser: WebDriver) -> None:
    def background() -> str:
        return browser.execute_script("return getComputedStyle(document.body).backgroundColor")

    _sign_in(browser, gateway.root, ALICE.secret)
    _ready(browser)
    light = background()
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        assert background() != light
    finally:
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "light"}]},
        )
