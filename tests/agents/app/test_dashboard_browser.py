"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) against the
runtime `make up` starts: `agentdao up` with its embedded chain, in its own home and ports.

A new user opens `/`, sees both agents and their prices, hires a skill and reads the
receipt, stakes as a dev account, proposes a higher price, votes, walks the proposal
through with the embedded chain's wait, executes it, and sees the new price without a
reload; the revenue chart shows the hire, and the operator's task list takes a new task
live. Screenshots of every page go to build/screenshots/ (so `make test` leaves the tree
clean); AGENTDAO_SCREENSHOTS=docs/screenshots refreshes the copies the README links.

Chromium is not optional: without /usr/bin/chromium the tests fail (``make install``
installs it); Playwright never downloads a browser.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from contracts.chain import free_port
from tests.conftest import ROOT, SAMPLE_AGENTS
from tests.support.customers import paying_client

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / os.environ.get("AGENTDAO_SCREENSHOTS", "build/screenshots")
AGENTDAO = str(Path(sys.executable).parent / "agentdao")
FIRST_PAINT_MS = 1000
SLOW = 30_000  # ms: a step that sends transactions and waits for the chain sync


@pytest.fixture(scope="module")
def runtime_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`agentdao up` as `make up` runs it: embedded chain, launch, serve."""
    home = tmp_path_factory.mktemp("dashboard") / "home"
    api_port, chain_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDAO_")}
    env |= {
        "AGENTDAO_HOME": str(home),
        "AGENTDAO_API_PORT": str(api_port),
        "AGENTDAO_CHAIN_PORT": str(chain_port),
        "AGENTDAO_AGENTS_FILE": str(SAMPLE_AGENTS),
        "AGENTDAO_EARNINGS_INTERVAL": "3600",
    }
    url = f"http://127.0.0.1:{api_port}"
    log = home.parent / "up.log"
    with log.open("ab") as sink:
        process = subprocess.Popen([AGENTDAO, "up"], env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/agents", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"runtime not ready:\n{log.read_text()}"
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(90)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium; a missing browser is a failure, never a skip."""
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: `make install` installs Debian's chromium "
        "(apt-get install chromium); Playwright must not download one"
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0); document.getElementById('status').textContent = ''")
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def unlabeled_fields(page: Page) -> list[str]:
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.outerHTML)"""
    )
    return found


def go(page: Page, section: str) -> None:
    """Open a section from the navigation, as a visitor clicks it (no page load)."""
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=section).click()
    expect(page.locator("main h1")).to_have_text(section)


def proposal_in(page: Page, state: str) -> Any:
    card = page.locator(f".proposal[data-state={state}]").first
    expect(card).to_be_visible(timeout=SLOW)
    return card


def test_a_new_user_hires_stakes_and_changes_a_price_from_the_page(
    runtime_url: str, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(runtime_url + "/")
    first_paint = page.evaluate(
        """() => new Promise((resolve) => {
            const found = () => performance.getEntriesByName('first-contentful-paint')[0];
            if (found()) return resolve(found().startTime);
            new PerformanceObserver(() => found() && resolve(found().startTime))
                .observe({type: 'paint', buffered: true});
        })"""
    )
    print(f"first contentful paint: {first_paint:.0f} ms")
    assert first_paint < FIRST_PAINT_MS
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    # Both agents with their prices.
    scribe, auditor = page.locator("#agent-scribe"), page.locator("#agent-auditor")
    expect(scribe.locator("tr[data-skill=summarize] .price")).to_have_text("0.05 USDC")
    expect(scribe.locator("tr[data-skill=headline] .price")).to_have_text("0.01 USDC")
    expect(auditor.locator("tr[data-skill=review] .price")).to_have_text("0.50 USDC")
    expect(scribe.locator(".timeline")).to_contain_text("initial config")
    expect(page.locator("#account")).to_have_value(
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # dev:1, the default
    )
    assert unlabeled_fields(page) == []

    # Hire scribe/summarize from the page: x402, signed as dev:1, receipt shown.
    scribe.get_by_label("Skill").select_option("summarize")
    scribe.get_by_label("Input").fill("Holders own the agent; the agent pays its stakers.")
    scribe.get_by_role("button", name="Hire").click()
    receipt = scribe.locator(".receipt")
    expect(receipt).to_be_visible(timeout=SLOW)
    expect(receipt).to_contain_text("0.05 USDC")
    expect(receipt).to_contain_text("exact")
    expect(scribe.locator(".result")).not_to_be_empty()
    shot(page, "agents")

    # Stake as dev:1.
    go(page, "Holders")
    page.get_by_label("Agent", exact=True).select_option("scribe")
    page.get_by_label("Tokens to stake").fill("100000")
    page.get_by_role("button", name="Stake", exact=True).click()
    expect(page.locator("#position .staked")).to_contain_text("100,000 tokens", timeout=SLOW)
    assert unlabeled_fields(page) == []

    # Propose summarize at 0.07: the diff first, then the signature.
    page.get_by_label("summarize price (USDC)").fill("0.07")
    page.get_by_label("Why (voters read this)").fill("Summaries cost more to make")
    page.get_by_role("button", name="Review changes").click()
    diff = page.locator("#diff")
    expect(diff.locator("del")).to_have_text("0.05")
    expect(diff.locator("ins")).to_have_text("0.07")
    expect(diff).to_contain_text("summarize price 0.05 -> 0.07 USDC")
    page.get_by_role("button", name="Submit proposal").click()
    card = proposal_in(page, "pending")
    expect(card).to_contain_text("summarize price 0.05 -> 0.07 USDC")
    expect(card).to_contain_text("voting opens in")

    # Another tab stays on the agents page: the new price must arrive there by itself.
    watcher = context.new_page()
    watcher.goto(runtime_url + "/#/agents")
    expect(watcher.locator("#agent-scribe tr[data-skill=summarize] .price")).to_have_text(
        "0.05 USDC"
    )

    card.get_by_role("button", name="Advance the embedded chain to the vote").click()
    card = proposal_in(page, "active")
    card.get_by_role("button", name="Vote for").click()
    expect(card.locator(".votes")).to_contain_text("For 100,000", timeout=SLOW)
    expect(card.locator(".votes")).to_contain_text("(reached)")
    card.get_by_role("button", name="Advance the embedded chain past the vote").click()
    card = proposal_in(page, "succeeded")
    card.get_by_role("button", name="Queue").click()
    card = proposal_in(page, "queued")
    expect(card).to_contain_text("executable in")
    card.get_by_role("button", name="Advance the embedded chain past the timelock").click()
    card.get_by_role("button", name="Execute").click(timeout=SLOW)
    card = proposal_in(page, "executed")
    shot(page, "holders")

    # The new price, with no reload: live in the other tab, and on the agents page.
    expect(watcher.locator("#agent-scribe tr[data-skill=summarize] .price")).to_have_text(
        "0.07 USDC", timeout=SLOW
    )
    expect(watcher.locator("#agent-scribe .timeline")).to_contain_text(
        "summarize price 0.05 -> 0.07 USDC"
    )
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == 1
    go(page, "Agents")
    expect(page.locator("#agent-scribe tr[data-skill=summarize] .price")).to_have_text("0.07 USDC")
    assert page.evaluate("window.__sameDocument") is True

    # The revenue chart shows the hire.
    go(page, "Money")
    revenue = page.locator("#money-scribe")
    expect(revenue.locator(".revenue-total")).to_have_text("0.05 USDC", timeout=SLOW)
    chart = revenue.locator("svg#revenue-scribe")
    expect(chart).to_have_attribute("data-last", "0.05")
    expect(chart.locator("circle.dot")).to_have_count(1)
    expect(page.locator("#claimable-scribe")).to_be_visible()
    shot(page, "money")

    # The operator's tasks, newest first; a hire made elsewhere appears by itself.
    go(page, "Operator")
    rows = page.locator("#task-rows tr")
    expect(rows.first).to_contain_text("scribe/summarize")
    expect(rows.first).to_contain_text("settled")
    with ThreadPoolExecutor(1) as other:  # Playwright's loop owns this thread
        other.submit(asyncio.run, _hire(runtime_url, 5, "auditor", "explain")).result()
    expect(rows.first).to_contain_text("auditor/explain", timeout=SLOW)
    expect(rows.first).to_contain_text("settled", timeout=SLOW)
    expect(rows).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "operator")

    # Keyboard: the sections are reachable from the keyboard alone.
    page.keyboard.press("Home")
    page.locator("nav a[data-page=money]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("main h1")).to_have_text("Money")
    context.close()

    # A phone: the same page, one column, nothing wider than the screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    small.goto(runtime_url + "/")
    expect(small.locator("#agent-scribe tr[data-skill=summarize] .price")).to_have_text("0.07 USDC")
    expect(small.locator("#agent-scribe .timeline")).to_contain_text("summarize price")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    shot(small, "agents-phone")
    phone.close()


async def _hire(url: str, customer: int, agent: str, skill: str) -> None:
    async with paying_client(customer, httpx.AsyncHTTPTransport(), url) as client:
        answer = await client.post(f"/agents/{agent}/skills/{skill}", json={"input": "a contract"})
        assert answer.status_code == 200, answer.text


FAKE_WALLET = """
window.__walletCalls = [];
window.ethereum = {
  request: async ({method, params}) => {
    window.__walletCalls.push({method, params});
    if (method === 'eth_requestAccounts') return ['0x000000000000000000000000000000000000bEEF'];
    if (method === 'eth_chainId') return '0x2105';
    if (method === 'eth_signTypedData_v4') return '0x' + '11'.repeat(65);
    throw new Error('unexpected ' + method);
  },
};
"""


def test_off_the_local_chain_the_page_offers_no_dev_account_and_signs_with_the_wallet(
    runtime_url: str, browser: Browser
) -> None:
    """The page as it is on Base (chain 8453): the config the runtime gives there (see
    test_dashboard's unit test) is served to it, and a stand-in EIP-1193 wallet is
    injected. No dev-account picker; a hire asks the wallet to sign the payment, and
    nothing goes to the dev door."""
    config = httpx.get(f"{runtime_url}/dashboard/config", timeout=10).json()
    config |= {
        "chain_id": 8453,
        "network": "eip155:8453",
        "local": False,
        "signer": "injected-wallet",
        "dev_accounts": [],
    }
    context = browser.new_context()
    door: list[str] = []
    context.route(
        "**/dashboard/config",
        lambda route: route.fulfill(json=config),
    )

    def count_door(route: Route) -> None:
        door.append(route.request.url)
        route.abort()

    context.route("**/dashboard/chain", count_door)
    context.add_init_script(FAKE_WALLET)
    page = context.new_page()
    page.goto(runtime_url + "/")
    expect(page.locator("#agent-scribe tr[data-skill=summarize] .price")).to_be_visible()
    expect(page.locator("#account")).to_have_count(0)
    expect(page.get_by_text("Act as")).to_have_count(0)
    connect = page.get_by_role("button", name="Connect wallet")
    expect(connect).to_be_visible()

    scribe = page.locator("#agent-scribe")
    scribe.get_by_role("button", name="Hire").click()
    expect(scribe.locator(".answer .error")).to_contain_text("connect a wallet")

    connect.click()
    expect(page.locator("#connect")).to_contain_text("0x0000")
    scribe.get_by_role("button", name="Hire").click()
    # The stand-in's signature is no real one: the runtime refuses it, nothing is charged.
    expect(scribe.locator(".answer .error")).to_be_visible(timeout=SLOW)
    calls = page.evaluate("window.__walletCalls")
    [signed] = [c for c in calls if c["method"] == "eth_signTypedData_v4"]
    typed = json.loads(signed["params"][1])
    assert typed["primaryType"] == "TransferWithAuthorization"
    assert typed["message"]["from"] == "0x000000000000000000000000000000000000bEEF"
    assert door == []
    context.close()
