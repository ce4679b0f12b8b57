"""Fleet ingest on a real broker and a real database (SQLite and PostgreSQL): every event stored once.

Rule W4: a serial nobody registered becomes an unregistered sighting, never a device.
"""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fleet import db
from fleet.devices import importer
from fleet.devices.models import Device, Merchant, UnregisteredSighting
from fleet.ingest.models import Event, TelemetrySample
from fleet.ingest.worker import IngestWorker
from protocol import event
from tests.fleet_helpers import expected_keys, register_terminals, wait_until
from tests.mqtt_helpers import Collector
from tests.paths import EXAMPLES
from tools import mosquitto, vterm

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

GOLDEN = EXAMPLES / "valid" / "event_sale_cash.json"
TELEMETRY = GOLDEN.with_name("telemetry.json")


def test_terminals_events_are_stored_exactly_once_and_devices_tracked(database_url, tmp_path):
    with mosquitto.Mosquitto(tmp_path / "broker") as broker:
        asyncio.run(_scenario(database_url, broker, tmp_path))


async def _scenario(url: str, broker: mosquitto.Mosquitto, tmp_path: Path) -> None:
    await db.migrate(url)
    await db.connect(url)
    try:
        registered = [vterm.serial_for(21, i) for i in range(2)]
        shop = await Merchant.create(name="Toko Ingest")
        await register_terminals(shop, registered[:1])
        await register_terminals(None, registered[1:])
        worker = IngestWorker("127.0.0.1", broker.port, batch_size=50)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        assert await asyncio.to_thread(worker.connected.wait, 10)

        # Two registered terminals and one nobody registered sell over the broker.
        root = tmp_path / "terminals"
        devs = [vterm.provision(root, broker.url, 21, i, {"heartbeat_s": 1}) for i in range(3)]
        procs = [vterm.start(dev, vterm.sale_script(__import__("random").Random(i), 6)) for i, dev in enumerate(devs)]
        for proc in procs:
            assert await asyncio.to_thread(proc.wait, 60) == 0
        keys = set().union(*(expected_keys(dev) for dev in devs))

        # The same golden event published three times, and junk: stored once, counted, never fatal.
        golden = json.loads(GOLDEN.read_text())
        collector = Collector(broker.port)
        for _ in range(3):
            collector.publish(golden["topic"], json.dumps(golden["payload"]))
        collector.publish(f"pos/v1/{registered[0]}/event", b"{not json")
        collector.publish(f"pos/v1/{registered[0]}/telemetry", json.dumps({"v": 1, "serial": "OTHER-1"}))
        collector.stop()
        keys.add(event.idempotency_key(golden["payload"]))

        async def all_stored() -> bool:
            return await Event.all().count() >= len(keys)

        assert await wait_until(all_stored)
        await asyncio.sleep(0.5)  # anything extra (a duplicate) would arrive meanwhile
        stored = set(await Event.all().values_list("key", flat=True))
        assert stored == keys and await Event.all().count() == len(keys)
        assert worker.counters["malformed.bad_json"] == 1 and worker.counters["malformed.serial_mismatch"] == 1

        for serial in registered:
            device = await Device.get(serial=serial)
            assert device.firmware and device.hw_id and device.last_seen is not None
            assert "printer58" in device.capabilities
            assert await TelemetrySample.filter(serial=serial).count() >= 1
        stranger = devs[2].name
        assert not await Device.filter(serial=stranger).exists(), "W4: an unknown serial is never made a device"
        sighting = await UnregisteredSighting.get(serial=stranger)
        assert sighting.messages > 0
        assert await Event.filter(serial=stranger).count() == len(expected_keys(devs[2]))  # its sales kept
        assert await TelemetrySample.filter(serial=stranger).count() == 0
        # Each event carries the merchant its terminal belonged to when it was stored; a stranger's sales
        # are nobody's until the serial is registered, and then its merchant's.
        assert not await Event.filter(serial=registered[0]).exclude(merchant_id=shop.id).exists()
        assert not await Event.filter(serial__in=[registered[1], stranger], merchant_id__not_isnull=True).exists()
        csv = "serial,model,device_type,merchant,ownership,invoice_number,invoice_date\n"
        report = await importer.import_devices(
            csv + f"{stranger},TKM-58,mpos,Toko Baru,purchased,INV-9,2026-02-01\n", by="test", now=datetime.now(UTC)
        )
        assert report.created == [stranger]
        newcomer = await Merchant.get(name="Toko Baru")
        assert await Event.filter(serial=stranger, merchant_id=newcomer.id).count() == len(expected_keys(devs[2]))

        # The device row keeps the latest heartbeat's health (what the dashboard counts): a later
        # heartbeat wins even when an earlier one arrives after it.
        beat = json.loads(TELEMETRY.read_text())["payload"]
        later = dict(beat, serial=registered[1], ts=1_900_000_100, paper="out", battery_pct=9, printed_mm=5000)
        earlier = dict(later, ts=1_900_000_000, paper="ok", battery_pct=90, printed_mm=4000)
        collector = Collector(broker.port)
        for n, beat in enumerate((later, earlier), start=1):  # in separate batches
            collector.publish(f"pos/v1/{registered[1]}/telemetry", json.dumps(beat))

            async def stored(n: int = n) -> bool:
                return await TelemetrySample.filter(serial=registered[1], printed_mm__gte=4000).count() == n

            assert await wait_until(stored)
        collector.stop()
        device = await Device.get(serial=registered[1])
        assert (device.paper, device.battery_pct, device.printed_mm) == ("out", 9, 5000)
        assert device.telemetry_at == datetime.fromtimestamp(1_900_000_100, UTC)
        stop.set()
        await task
    finally:
        await db.disconnect()


def test_every_telemetry_metric_of_the_protocol_has_a_column():
    from fleet.ingest.worker import TELEMETRY_COLUMNS

    assert set(TELEMETRY_COLUMNS) <= set(TelemetrySample._meta.fields_map)
    assert "battery_pct" in TELEMETRY_COLUMNS and "ts" not in TELEMETRY_COLUMNS
