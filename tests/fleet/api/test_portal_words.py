"""#18's finding: raw identifiers in the Indonesian UI: command states (`pending/sent/acked/failed`), event
types and a sale's status (`sale/payment/partially_paid`) shown as the wire spells them."""

import asyncio
import re

from fleet.commands.models import Command
from tests import factories
from tests.api_helpers import fleet_api, portal_login


def _visible(page: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes."""
    body = page.split("<body", 1)[-1]
    return re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S)


def test_the_device_page_speaks_indonesian_for_commands_events_and_payment_states(database_url):
    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            serial = seed.devices["A"][1]
            await factories.sale(serial, 700, "W-1", 44_950, 10_000)  # partly paid
            ping = await Command.filter(device__serial=serial).first()
            if ping is None:
                from fleet.commands import service as commands
                from fleet.devices.models import Device

                ping = await commands.enqueue(
                    await Device.get(serial=serial), "ping", args={}, requested_by="support", now=factories.WHEN
                )
            ping.status = "acked"
            await ping.save()
            await portal_login(client, "support")
            text = _visible((await client.get(f"/portal/devices/{serial}")).text)
            assert "Penjualan" in text and "Dibayar sebagian" in text and "Dijalankan" in text, text[:2000]
            for raw in ("partially_paid", "acked", " sale ", " ping "):
                assert raw not in text, raw
            await client.get(f"/lang/en?next=/portal/devices/{serial}")  # the language switch (a cookie)
            english = _visible((await client.get(f"/portal/devices/{serial}")).text)
            assert "Partly paid" in english and "Done" in english and "Dibayar sebagian" not in english

    asyncio.run(body())
