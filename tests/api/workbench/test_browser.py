"""The workbench in a real browser: headless Chromium (Debian's, driven by Playwright) against ``hrledger
serve`` as its own process. A person signs in from the keyboard, follows the seed case from the overview to
a drafted 催告函, issues it, records its delivery and exports a bundle that verifies; a post without the
CSRF token is refused and a script in event data stays text. One browser for the module.

Screenshots (overview, case, 催告函, the bundle's report printed on A4) are written to
``tests.support.browser.SCREENS`` and their paths printed (``pytest -s`` shows them)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.browser import CHROMIUM, LAUNCH_ARGS, cli, missing_tools, post_json, screenshot_path, serve
from tests.support.domain import at
from tests.support.seed import CASE, SUBJECT, events_until

pytestmark = pytest.mark.skipif(bool(missing_tools()), reason=f"not installed: {', '.join(missing_tools())}")

PASSWORD = "a long enough password"
LATE_JUNE = at("2025-06-23 12:00")  # the seed case before its 催告函 was issued
A4 = (595.3, 841.9)


@dataclass
class Site:
    base: str
    token: str
    vkey: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("workbench") / "d"
    cli("init", "--data", str(data), "--origin", "hr.example.com/ledger")
    token = cli("token", "create", "--data", str(data), "--role", "admin", "--name", "hris").strip().splitlines()[-1]
    cli("user", "create", "--data", str(data), "--role", "hr", "--name", "wang.li", "--password-stdin", stdin=PASSWORD)
    vkey = cli("key", "show", "--data", str(data)).strip()
    with serve(data, "--tick", "1") as base:
        post_json(base + "/v1/events", token, {"events": events_until(LATE_JUNE)})
        yield Site(base, token, vkey)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


def signed_in(browser: Any, site: Site) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(site.base + "/")
    assert "/signin" in page.url
    # from the keyboard only: the name field has the focus, Tab goes to the password, Enter signs in
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("wang.li")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site.base + "/")
    page.keyboard.press("Tab")  # on every page the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    return page


def entries(site: Site) -> list[dict[str, Any]]:
    import urllib.request

    req = urllib.request.Request(
        f"{site.base}/v1/entries?subject={SUBJECT}&limit=1000", headers={"Authorization": f"Bearer {site.token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        rows: list[dict[str, Any]] = json.loads(resp.read())["entries"]
    return rows


def submit(page: Any, selector: str) -> None:
    """Follow a link or send a form from the keyboard (focus it, press Enter) and wait for the page it leads to."""
    page.wait_for_load_state("networkidle")
    page.focus(selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def pdf_pages(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert pages is not None and size is not None, info
    return int(pages.group(1)), (float(size.group(1)), float(size.group(2)))


def is_a4(size: tuple[float, float]) -> bool:
    return abs(size[0] - A4[0]) < 1.5 and abs(size[1] - A4[1]) < 1.5


def test_from_the_overview_to_a_served_return_demand_and_a_verified_bundle(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    page = signed_in(browser, site)
    # the stages are entered by the service's own escalator, ticking every second
    for _ in range(60):  # until the escalator has entered the stages and drafted their notices
        if "解除审查" in page.inner_text("main"):
            break
        page.wait_for_timeout(500)
        page.reload()
    main = page.inner_text("main")
    assert "张三" in main and "解除审查" in main and "已发出催告函" in main

    page.evaluate("document.activeElement.blur()")
    page.screenshot(path=screenshot_path("1-overview.png"), full_page=True)
    submit(page, "a:has-text('张三')")
    assert page.url == f"{site.base}/cases/{CASE}"
    assert "尚未齐备" in page.inner_text("#readiness")
    page.screenshot(path=screenshot_path("2-case.png"), full_page=True)

    # the 催告函 the escalator drafted when the case entered lost_contact: opened from the case, printed
    assert "催告函" in page.inner_text("#notices")
    submit(page, "#notices a:has-text('催告函')")
    assert "/notice?id=" in page.url
    assert "催告函" in page.inner_text("h1") and "与所存文书一致" in page.inner_text("main")
    notice_url = page.url
    page.screenshot(path=screenshot_path("3-notice-page.png"), full_page=True)
    href = page.get_attribute("a:has-text('打开可打印文书')", "href")
    assert href is not None
    document = page.context.new_page()
    document.goto(site.base + href)
    text = document.inner_text("body")
    assert "催告函" in text and "张三" in text and "第三十九条第（二）项" in text
    document.screenshot(path=screenshot_path("4-return-demand.png"), full_page=True)
    document.pdf(path=str(tmp_path / "return-demand.pdf"), format="A4", print_background=True)
    pages, size = pdf_pages(tmp_path / "return-demand.pdf")
    assert is_a4(size) and 1 <= pages <= 2
    document.close()

    # issue it, then record its delivery by registered post
    page.goto(notice_url)
    invalid = page.evaluate(
        "[...document.querySelectorAll('#form-issue :invalid')].map(e => e.name + ': ' + e.validationMessage)"
    )
    assert invalid == [], invalid
    submit(page, "#form-issue button[type=submit]")
    assert f"/cases/{CASE}" in page.url, (page.url, page.inner_text("main")[:2000])
    assert "已记录为 seq" in page.inner_text(".flash")
    page.click("#form-notice_delivered summary")
    page.select_option("#notice_delivered-id", f"{CASE}/return_demand")
    page.select_option("#notice_delivered-channel", "post")
    page.fill("#nd-evidence", "EMS EA123456789CN")
    page.select_option("#nd-by", "co_resident_adult")
    page.fill("#nd-name", "李四")
    submit(page, "#form-notice_delivered button[type=submit]")
    assert "flash=" in page.url, page.inner_text("main")[:2000]
    assert "EA123456789CN" in page.inner_text("#notices")
    recorded = [e for e in entries(site) if json.loads(e["entry"])["source"] == "workbench/wang.li"]
    assert {json.loads(e["entry"])["type"] for e in recorded} >= {"notice.issued", "notice.delivered"}
    issued = next(e for e in recorded if json.loads(e["entry"])["type"] == "notice.issued")
    drafted_digest = page.context.request.get(
        f"{site.base}/v1/notices/{quote(issued['data']['notice_id'], safe='')}",
        headers={"Authorization": f"Bearer {site.token}"},
    ).json()["document_digest"]
    assert issued["data"]["document_digest"] == drafted_digest and issued["data"]["draft_seq"] >= 0

    # the bundle, with its progress, downloaded and verified offline
    page.fill("#bundle-from", "2025-03-01")
    submit(page, "form[action='/bundles'] button[type=submit]")
    assert "/bundles/" in page.url and page.inner_text("#job-state")  # its progress, polled by the page
    page.wait_for_selector("#job-done:not([hidden])", timeout=90_000)
    assert "已完成" in page.inner_text("#job-state")
    page.screenshot(path=screenshot_path("5-bundle.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#job-done a.button")
    bundle = tmp_path / "bundle.zip"
    download.value.save_as(bundle)
    check_bundle(bundle, site, browser, tmp_path)


def check_bundle(bundle: Path, site: Site, browser: Any, tmp_path: Path) -> None:
    from verifier.check import verify_bundle
    from verifier.note import parse_vkey

    result = verify_bundle(bundle.read_bytes(), parse_vkey(site.vkey), name=bundle.name)
    assert result.ok, result.failures
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as z:
        (tmp_path / "report.html").write_bytes(z.read("report.html"))
    report = browser.new_page()
    report.goto((tmp_path / "report.html").as_uri())
    text = report.inner_text("body")
    assert "{'en'" not in text and "'zh'" not in text  # no raw Python dicts
    for phrase in ("证据目录", "证明成立", "尚未齐备", "EA123456789CN", "workbench/wang.li", "催告函已依法送达"):
        assert phrase in text, phrase
    pdf = tmp_path / "report.pdf"
    report.pdf(path=str(pdf), format="A4", print_background=True)
    report.close()
    pages, size = pdf_pages(pdf)
    assert is_a4(size) and pages >= 1
    prefix = screenshot_path("6-report-page")
    for old in prefix.parent.glob(prefix.name + "-*.png"):  # an earlier run's pages
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(prefix)], check=True)
    for png in sorted(prefix.parent.glob(prefix.name + "-*.png")):
        print(f"screenshot: {png}")


def test_a_post_without_the_csrf_token_is_refused_and_records_nothing(site: Site, browser: Any) -> None:
    page = signed_in(browser, site)
    before = len(entries(site))
    resp = page.context.request.post(
        f"{site.base}/record/union_notified",
        form={"subject": SUBJECT, "union": "公司工会", "nonce": "csrf-less-post-1", "back": "/"},
        max_redirects=0,
    )
    assert resp.status == 403 and "CSRF" in resp.text()
    resp = page.context.request.post(
        f"{site.base}/record/union_notified",
        form={"subject": SUBJECT, "union": "x", "nonce": "csrf-less-post-2", "csrf": "guessed"},
        max_redirects=0,
    )
    assert resp.status == 403
    assert len(entries(site)) == before
    page.context.close()


def test_a_script_in_event_data_stays_text(site: Site, browser: Any) -> None:
    payload = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    event = {
        "event_id": "xss-1",
        "type": "contact.attempted",
        "subject": SUBJECT,
        "occurred_at": "2025-06-22T10:00:00+08:00",
        "source": "hr-system",
        "data": {"channel": "phone", "target": "employee", "value": payload, "result": "no_answer", "note": payload},
    }
    post_json(site.base + "/v1/events", site.token, event)
    page = signed_in(browser, site)
    response = page.goto(f"{site.base}/cases/{CASE}")
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    assert page.evaluate("window.__pwned") is None
    assert "<script>window.__pwned = 1</script>" in page.inner_text("#timeline")
    page.context.close()
