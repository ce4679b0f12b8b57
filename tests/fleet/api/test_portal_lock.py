"""#18's finding on risky controls: "Kunci penjualan" (lock sales) came first among the command buttons,
looked like Ping, ran without confirmation; nothing showed whether a terminal was locked, and Lock and
Unlock were both always offered."""

import asyncio
import re

from fleet.commands.models import Command
from tests.api_helpers import fleet_api, portal_login


def test_locking_a_terminals_sales_asks_for_confirmation_and_the_page_shows_the_lock_and_offers_its_undo(
    database_url,
):
    async def body() -> None:
        async with fleet_api(database_url) as (client, seed):
            serial = seed.devices["A"][1]
            csrf = await portal_login(client, "support")
            page = (await client.get(f"/portal/devices/{serial}")).text
            assert 'id="lock-state">Penjualan terbuka' in page
            assert 'id="cmd-lock"' in page and 'id="cmd-unlock"' not in page  # one of the two, as it stands
            buttons = re.findall(r'id="cmd-(\w+)"', page)
            assert buttons[-1] == "lock" and "ping" in buttons  # apart from the everyday ones, not first
            assert 'type="checkbox" name="confirm" value="yes" required' in page

            path = f"/portal/devices/{serial}/commands"
            refused = await client.post(path, data={"name": "lock", "csrf": csrf}, follow_redirects=True)
            assert "centang konfirmasi" in refused.text
            assert not await Command.filter(device__serial=serial, name="lock").exists()

            form = {"name": "lock", "csrf": csrf, "confirm": "yes", "reason": "Sewa belum dibayar"}
            sent = await client.post(path, data=form)
            assert sent.status_code == 303
            lock = await Command.get(device__serial=serial, name="lock")
            assert lock.args == {"reason": "Sewa belum dibayar"} and lock.requested_by == "support"
            page = (await client.get(f"/portal/devices/{serial}")).text
            assert "menunggu terminal: Kunci penjualan" in page and 'id="cmd-unlock"' in page

            lock.status = "acked"  # the terminal ran it
            await lock.save()
            page = (await client.get(f"/portal/devices/{serial}")).text
            assert 'id="lock-state">Penjualan terkunci' in page and "Sewa belum dibayar" in page
            assert 'id="cmd-unlock"' in page and 'id="cmd-lock"' not in page and "menunggu" not in page

    asyncio.run(body())
