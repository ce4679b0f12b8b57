"""The portals in a real browser: Debian's chromium, headless, driven by Playwright, against `fleet
serve` with a real Mosquitto and a virtual terminal running the real firmware.

Biz Support logs in, finds the device, sends a reprint and sees the terminal acknowledge it; opens a repair
ticket and walks it to closed; a merchant sees only their own devices; the public check answers a right
serial and invoice and refuses a wrong pair. Every page is also opened 375 px wide and must not scroll
sideways. A screenshot of every page goes to test-artifacts/screenshots/.
"""

import json
import shutil
import time
from pathlib import Path

import pytest

from protocol import hello as hellos
from protocol import topics
from tests.fleet_server import FleetServer
from tests.gateway_helpers import Gateway
from tests.mqtt_helpers import Collector
from tests.paths import ROOT
from tools import mosquitto, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SERIALS = [vterm.serial_for(61, i) for i in range(2)]
CSV = (
    "serial,model,device_type,merchant,ownership,invoice_number,invoice_date,rental_start,rental_end\n"
    f"{SERIALS[0]},TKM-58,mpos,Toko Satu,purchased,INV-61-0,2026-09-01,,\n"
    f"{SERIALS[1]},TKM-80,printer,Toko Dua,rented,INV-61-1,,2026-06-01,2027-05-31\n"
)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (scripts/system_packages.sh installs it)")
    tmp = tmp_path_factory.mktemp("portal")
    with mosquitto.Mosquitto(tmp / "broker") as broker:
        server = FleetServer(tmp, f"sqlite://{tmp / 'fleet.sqlite3'}", broker.url)
        gateway = Gateway(f"{server.base}/payments/webhooks/sandbox").start()
        server.env |= gateway.env() | {"FLEET_PUBLIC_URL": server.base}
        server.gateway = gateway  # type: ignore[attr-defined]
        server.broker = broker  # type: ignore[attr-defined]
        (tmp / "devices.csv").write_text(CSV)
        assert server.cli("import-devices", "devices.csv").returncode == 0
        for user, role, merchant in (
            ("support", "biz_support", None),
            ("owner1", "merchant", "Toko Satu"),
            ("owner2", "merchant", "Toko Dua"),
        ):
            extra = ["--merchant", merchant] if merchant else []
            made = server.cli("create-user", user, "--role", role, *extra, FLEET_NEW_USER_PASSWORD=f"{user}-password")
            assert made.returncode == 0, made.stderr
        with server:
            dev = vterm.provision(tmp / "terminals", broker.url, 61, 0, {"heartbeat_s": 1})
            # A cash sale (reprinted below), then one with a down payment (its pay link's checkout page).
            terminal = vterm.start(dev, "1A B 1#  2A B 4 5000#\n", stay=True)
            try:
                token = server.token("support", "support-password")
                for _ in range(200):
                    if server.request("GET", f"/devices/{SERIALS[0]}", token=token)[1].get("online"):
                        break
                    time.sleep(0.1)
                else:
                    pytest.fail("the virtual terminal did not come online")
                yield server
            finally:
                terminal.kill()
                terminal.wait()
                gateway.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(browser, fleet, username: str, width: int = 1280):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=fleet.base)
    page = context.new_page()
    page.goto("/portal")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-password")
    page.click("button[type=submit]")
    return page


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_support_reprints_on_a_live_terminal_and_walks_a_repair_to_closed(fleet, browser):
    page = login(browser, fleet, "support")
    page.wait_for_url("**/portal/dashboard")
    assert page.inner_text("#online-count") == "1"
    shot(page, "dashboard")
    page.click("text=Perangkat")
    page.fill("input[name=q]", SERIALS[0][-4:])
    page.click("button:has-text('Cari')")
    assert page.locator("#devices tr").count() == 2  # the header and the one match
    shot(page, "devices")
    page.click(f"text={SERIALS[0]}")
    page.fill("input[name=receipt]", "V00-000001")
    page.click("#cmd-reprint")
    page.wait_for_selector("#commands tr.command[data-status=acked]", timeout=20_000)
    assert "Cetak ulang V00-000001" in page.inner_text("#commands")
    assert "Bergaransi" in page.inner_text("#warranty")
    page.reload()  # by now the terminal has sent several heartbeats: the charts are real plots
    assert page.locator("svg.chart polyline").count() >= 3  # battery, free memory, printed length
    shot(page, "device")

    page.fill("input[name=problem]", "Pemotong kertas macet")
    page.click("#open-ticket")
    page.wait_for_url("**/portal/tickets/*")
    steps = [
        ("request_shipment", {}),
        ("ship", {"courier": "jne", "tracking": "CGK1234567890"}),
        ("receive", {}),
        ("diagnose", {}),
        ("decide", {"covered": "true", "cause": "defect", "evidence_photos": "cutter.jpg"}),
        ("repaired", {}),
        ("ship_return", {"courier": "sicepat", "tracking": "000123456789"}),
        ("delivered", {}),
    ]
    for action, fields in steps:
        form = page.locator(f"#action-{action}")
        for name, value in fields.items():
            field = form.locator(f"[name={name}]")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        form.locator("button").click()
        page.wait_for_load_state()
        assert page.locator("#error").count() == 0, page.inner_text("#error")
        if action == "decide":
            shot(page, "ticket")
    assert page.inner_text("#state") == "Selesai"
    assert page.locator("#history tr").count() == 9  # opened + eight steps, each with its actor
    assert "support" in page.inner_text("#history")
    page.click("text=Perbaikan")
    shot(page, "repair-queue")
    page.click("text=English")
    assert page.locator("h1").inner_text() == "Repair queue"
    page.context.close()


def test_a_merchant_sees_only_their_own_devices(fleet, browser):
    page = login(browser, fleet, "owner2", width=375)
    page.wait_for_url("**/portal/devices")
    text = page.inner_text("#devices")
    assert SERIALS[1] in text and SERIALS[0] not in text
    shot(page, "merchant-devices")
    page.goto(f"/portal/devices/{SERIALS[0]}")  # another merchant's device
    assert page.locator("h1").inner_text() == "Tidak ditemukan"
    page.goto(f"/portal/devices/{SERIALS[1]}")
    assert page.locator("#cmd-lock").count() == 0 and page.locator("#cmd-reprint").count() == 1
    assert fits(page)
    shot(page, "merchant-device")
    page.context.close()


def test_the_merchant_sets_its_auto_cancel_window_in_the_portal(fleet, browser):
    """P4: the PayLater deadline follows the auto-cancel window the merchant sets for itself."""
    page = login(browser, fleet, "owner1", width=375)
    page.wait_for_url("**/portal/devices")
    field = page.locator("#settings input[name=auto_cancel_minutes]")
    assert field.input_value() == "30"
    field.fill("120")
    page.locator("#settings button").click()
    page.wait_for_load_state()
    assert page.inner_text(".flash.done") == "Tersimpan"
    shot(page, "merchant-settings")
    field = page.locator("#settings input[name=auto_cancel_minutes]")
    field.evaluate("e => { e.removeAttribute('min'); e.value = '3'; }")  # past the browser's own check
    page.locator("#settings button").click()
    page.wait_for_load_state()
    assert page.inner_text(".flash") == "Batas waktu pembatalan otomatis: 5 sampai 10080 menit"
    assert page.locator(".flash.done").count() == 0
    assert page.locator("#settings input[name=auto_cancel_minutes]").input_value() == "120"
    assert fits(page)
    # #19: the change is in the audit trail, with who, before and after, on the merchant's own page.
    page.goto("/portal/audit?action=merchant")
    row = page.locator("#audit tr[data-action='merchant.settings']")
    assert row.count() == 1
    assert "owner1" in row.inner_text() and '{"auto_cancel_minutes":30}' in row.inner_text().replace(" ", "")
    assert '{"auto_cancel_minutes":120}' in row.inner_text().replace(" ", "")
    shot(page, "merchant-audit")
    assert fits(page)
    page.context.close()
    owner = fleet.token("owner1", "owner1-password")
    mine = fleet.request("GET", "/merchants", token=owner)[1]
    assert [(m["name"], m["auto_cancel_minutes"]) for m in mine] == [("Toko Satu", 120)]
    support = fleet.token("support", "support-password")
    others = {m["name"]: m["auto_cancel_minutes"] for m in fleet.request("GET", "/merchants", token=support)[1]}
    assert others["Toko Dua"] == 30


def test_public_warranty_check_right_and_wrong_pair(fleet, browser):
    context = browser.new_context(viewport={"width": 375, "height": 800}, base_url=fleet.base)
    page = context.new_page()
    page.goto("/warranty")
    page.fill("input[name=serial]", SERIALS[0])
    page.fill("input[name=invoice_number]", "INV-61-0")
    page.click("button[type=submit]")
    result = page.inner_text("#result")
    assert "Bergaransi" in result and "W1" in result and "31 Agu 2027" in result
    shot(page, "warranty-check")
    page.fill("input[name=serial]", SERIALS[0])
    page.fill("input[name=invoice_number]", "INV-WRONG")
    page.click("button[type=submit]")
    assert "Tidak ada perangkat terdaftar" in page.inner_text("#result")
    assert fits(page)
    shot(page, "warranty-check-refused")
    context.close()


def test_the_merchant_sends_a_pay_link_from_the_portal_and_the_customer_opens_it_on_a_phone(fleet, browser):
    """P1-P3: the merchant sends an invoice for a partly paid order by SMS from the device page; the
    customer's phone opens the checkout page and goes on to the gateway's hosted checkout."""
    import httpx

    owner = fleet.token("owner1", "owner1-password")
    orders = [f"/devices/{SERIALS[0]}/orders/V00-{n:06d}" for n in range(1, 20)]
    for _ in range(100):
        if any(fleet.request("GET", o, token=owner)[1].get("status") == "partially_paid" for o in orders):
            break
        time.sleep(0.1)
    page = login(browser, fleet, "owner1", width=375)
    page.wait_for_url("**/portal/devices")
    page.goto(f"/portal/devices/{SERIALS[0]}")
    form = page.locator("form[id^=paylink-]")
    assert form.count() == 1  # only the partly paid sale offers a pay link
    form.locator("input[name=phone]").fill("+6281234567890")
    form.locator("input[name=method_paylater]").uncheck()
    form.locator("button").click()
    page.wait_for_load_state()
    assert page.inner_text(".flash.done") == "Tagihan terkirim"  # a success, from the server (not the URL)
    assert fits(page)
    page.context.close()
    sms = httpx.get(f"{fleet.gateway.url}/sandbox/sms").json()[-1]["text"]
    link = next(word for word in sms.split() if "/pay/" in word)
    context = browser.new_context(viewport={"width": 375, "height": 800})
    customer = context.new_page()
    customer.goto(link)
    assert "Toko Satu" in customer.inner_text("h1") and "Rp" in customer.inner_text("#invoice")
    assert customer.locator("input[name=method]").count() == 2 and fits(customer)  # QRIS and card
    shot(customer, "paylink-checkout")
    customer.click("#pay")
    customer.wait_for_url(f"{fleet.gateway.url}/**")  # on to the gateway's hosted checkout
    context.close()


def test_support_reads_the_quarantine_in_the_portal_and_a_merchant_cannot(fleet, browser):
    """#15: what the ingest acknowledged without storing is a portal list for Biz Support: newest first,
    by serial and reason, paged, the payload shown as text (never run as markup); merchants are refused."""
    hostile = SERIALS[1]
    publisher = Collector(fleet.broker.port, topics=("unused/#",))
    publisher.publish(topics.topic(hostile, topics.HELLO), b'{"v": 1, "serial": "' + hostile.encode() + b'"')  # cut
    for n in range(55):  # with the cut one, more than a page of JSON that is not
        publisher.publish(topics.topic(hostile, topics.EVENT), b"<script>window.owned = 1</script> #%d" % n)
    hello = hellos.build(hostile, 1795000000, "TKM-80", "B2", "hw\ud800", "1.4.0", "power_on", [])
    publisher.publish(topics.topic(hostile, topics.HELLO), json.dumps(hello).encode())  # the escape, as sent
    publisher.stop()
    token = fleet.token("support", "support-password")
    for _ in range(200):
        if fleet.request("GET", f"/ingest/quarantine?serial={hostile}", token=token)[1]["total"] >= 57:
            break
        time.sleep(0.1)
    page = login(browser, fleet, "support")
    page.wait_for_url("**/portal/dashboard")
    assert int(page.inner_text("#quarantined-count")) >= 57
    page.click("#quarantined-count >> xpath=.. >> a")
    page.wait_for_url("**/portal/quarantine")
    page.fill("input[name=serial]", hostile.lower())
    page.click("button:has-text('Cari')")
    assert "Halaman 1 dari 2 · 57 pesan" in page.inner_text("#quarantine-count")
    rows = page.locator("#quarantine tr")
    assert rows.count() == 51  # the header and a page of 50
    newest = rows.nth(1).inner_text()
    assert "Teks tak dapat disimpan" in newest and "hw_id" in newest and f"pos/v1/{hostile}/hello" in newest
    assert page.evaluate("window.owned") is None  # a payload is text on the page, never markup
    page.click("a[rel=next]")
    assert "Halaman 2 dari 2" in page.inner_text("#quarantine-count") and page.locator("#quarantine tr").count() == 8
    assert "serial=" + hostile in page.url  # the filter stays on the next page
    page.select_option("select[name=reason]", "bad_json")
    page.click("button:has-text('Cari')")
    assert "56 pesan" in page.inner_text("#quarantine-count")
    assert page.locator("#quarantine td[data-reason=bad_json]").count() == 50
    assert "<script>" in page.inner_text("#quarantine")
    shot(page, "quarantine")
    page.context.close()
    merchant = login(browser, fleet, "owner2")
    merchant.wait_for_url("**/portal/devices")
    assert merchant.locator("a[href='/portal/quarantine']").count() == 0
    merchant.goto("/portal/quarantine")
    assert merchant.locator("h1").inner_text() == "Tidak diizinkan"
    merchant.context.close()


def test_every_page_fits_a_375_px_screen(fleet, browser):
    page = login(browser, fleet, "support", width=375)
    page.wait_for_url("**/portal/dashboard")
    token = fleet.token("support", "support-password")
    ticket = fleet.request("GET", "/tickets", token=token)[1][0]["id"]
    for path in (
        "/portal/dashboard",
        "/portal/devices",
        f"/portal/devices/{SERIALS[0]}",
        "/portal/tickets",
        f"/portal/tickets/{ticket}",
        "/portal/quarantine",
        "/portal/audit",
        "/warranty",
        "/login",
    ):
        page.goto(path)
        name = "narrow" + (path.replace("/", "-") if path != "/login" else "-login")
        shot(page, name)
        assert fits(page), f"{path} scrolls sideways at 375 px"
    page.context.close()
