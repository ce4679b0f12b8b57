"""The terminal's link to the fleet over MQTT: identity, outbox, telemetry and commands.

- On every connect: `hello` (identity, firmware, boot reason, capabilities), retained `state` online (the
  last will says offline), and a persistent subscription to this terminal's `cmd` topic.
- Outbox: journal records after the cursor are published in order at QoS 1, at most WINDOW in flight.
  A record is done only when its PUBACK arrives; the cursor (on flash) then moves over the contiguous
  acknowledged prefix, written at most every CURSOR_EVERY records or when the outbox runs dry, to spare
  the flash. After a reconnect or a reboot everything past the cursor is sent again (DUP set where it
  was sent before): duplicates carry the same idempotency key, and the fleet stores each key once.
- Flash full: the journal refuses new sales while unacknowledged records fill its budget (the cashier
  sees MEMORI PENUH); a sale in flight can always close, and nothing is ever dropped to make room.
- Telemetry: a heartbeat every `heartbeat_s` (config); faults (paper out, low battery, crash reboot) are
  journaled events and go through the outbox at once.
- Commands: handled by commands.py, loaded when one arrives.
- Two coroutines in all (the client's reader and `run()`'s loop, which wakes every _TICK_MS): tasks,
  events and timeouts cost heap a 128 KB device does not have to spare (BRIEF §5).
Code used now and then (hello, telemetry, commands) is imported for the moment and dropped (transient.py).
"""

import asyncio
import time

import config
from micropython import const
from mqtt import MQTTClient
from transient import Transient

from protocol import codec, state, topics
from protocol import event as ev

FIRMWARE = "1.0.0"
WINDOW = const(8)
CURSOR_EVERY = const(16)
_TICK_MS = const(50)
_LOW_BATTERY = const(15)


def parse_broker(url):
    """'mqtt://host:port' or 'mqtts://host:port' -> (host, port, tls)."""
    tls = url.startswith("mqtts://")
    rest = url.split("://", 1)[1] if "://" in url else url
    host, _, port = rest.partition(":")
    return host, int(port) if port else (8883 if tls else 1883), tls


class Link:
    """The link of one terminal: it sends what `journal` holds and reads `printer`'s state under the
    settings in `cfg` (the terminal's one settings dict, changed in place by a config command); `till`
    runs the commands that arrive and journals the faults the link notices."""

    def __init__(self, board, ident, credentials, journal, cfg, printer, till):
        self.board = board
        self.journal = journal
        self.cfg = cfg
        self.printer = printer
        self.till = till
        self.ident = ident
        self.serial = ident["serial"]
        host, port, tls = parse_broker(cfg["broker"])
        self.client = MQTTClient(
            board.connector(tls),
            host,
            port,
            self.serial,
            user=self.serial,
            password=credentials.get("password"),
            keepalive=cfg["keepalive_s"],
            will=self._will,
            clean=False,
            rand=board.randint,
            max_backoff=cfg["reconnect_max_s"],
        )
        self.client.on_message = self._on_message
        self.client.on_puback = self._on_puback
        self._pids = {}  # pid -> seq of records in flight
        self._acked = set()  # acknowledged seqs beyond the contiguous prefix
        self._done = self.journal.cursor  # highest seq of the acknowledged contiguous prefix
        self._sent = self._done  # highest seq published on this connection
        self._high = self._done  # highest seq ever published since boot (for DUP)
        self._low_battery = False
        self._counters = None
        self._announced = 0  # the client's connection number last announced (hello, state, subscribe)
        self.malformed = 0  # commands refused as malformed
        self.foreign = 0  # commands on another terminal's topic: never run, never answered
        self.connected_at = 0  # the time this connection began: its will and its online state carry it

    def up(self):
        """Connected, announced and subscribed: requests and answers can flow."""
        return self.client.connected.is_set() and self._announced == self.client.connects

    def pending(self):
        """Records not yet acknowledged by the broker."""
        return self.journal.next_seq - 1 - self._done

    async def run(self):
        """Two coroutines in all: the client's reader (connect, read, reconnect) and this loop, which
        announces each new connection, keeps it alive, drains the outbox and sends the heartbeat. Each
        wakes on a short sleep rather than on events and timeouts, which would cost tasks (heap)."""
        asyncio.create_task(self.client.run())
        client = self.client
        beat = time.ticks_ms()
        while True:
            await asyncio.sleep_ms(_TICK_MS)
            if time.ticks_diff(time.ticks_ms(), beat) >= 0:
                beat = time.ticks_add(time.ticks_ms(), self.cfg["heartbeat_s"] * 1000)
                self._wear_and_battery()
                beat_now = True
            else:
                beat_now = False
            if not client.connected.is_set():
                continue
            try:
                if self._announced != client.connects:
                    await self._on_connect()
                    beat_now = True  # the first heartbeat goes out as soon as a connection is up
                await client.tick()
                if beat_now:
                    await self._heartbeat()
                await self._drain()
            except Exception:  # the connection broke mid-way: the client reconnects, and this starts over
                pass

    # -- connect ---------------------------------------------------------------------------------------

    def _will(self):
        """The last will for the connection about to be made. It carries the time the connection began,
        as the retained online of that connection does: the fleet applies presence by the terminal's time,
        and at the same time offline wins, so a late online of a dead connection never beats its will."""
        self.connected_at = self.board.now()
        offline = state.build(self.serial, state.OFFLINE, self.connected_at)
        return topics.topic(self.serial, topics.STATE), codec.encode(offline), 1, True

    async def _on_connect(self):
        connects = self.client.connects
        with Transient("session") as session:  # runs once a connection: its code is not kept
            await session.announce(self)
        self._pids = {}
        self._acked = set()
        self._sent = self._done
        self._announced = connects

    async def goodbye(self):
        """Leave on purpose: retained state offline (a clean disconnect suppresses the last will)."""
        if self.client.connected.is_set():
            offline = state.build(self.serial, state.OFFLINE, self.board.now())
            try:
                await self.client.publish(topics.topic(self.serial, topics.STATE), codec.encode(offline), 0, True)
            except Exception:
                pass
        await self.client.disconnect()

    # -- outbox ----------------------------------------------------------------------------------------

    async def _drain(self):
        """Publish what the journal holds past what was sent, at most WINDOW in flight, not while the
        printer prints (the heap is the printer's then)."""
        journal = self.journal
        self._save_cursor(False)
        if self._sent + 1 >= journal.next_seq:
            self._save_cursor(True)
            return
        client = self.client
        if client.inflight() >= WINDOW or self.printer.printing:
            return
        records = journal.records(self._sent + 1)
        try:
            for seq, payload in records:
                pid = await client.publish(topics.topic(self.serial, topics.EVENT), payload, 1, dup=seq <= self._high)
                self._pids[pid] = seq
                self._sent = seq
                if seq > self._high:
                    self._high = seq
                if client.inflight() >= WINDOW or self.printer.printing:
                    return
        finally:
            records.close()  # its segment file is closed now, not when the collector finds it

    def _on_puback(self, pid):
        seq = self._pids.pop(pid, None)
        if seq is None:
            return
        self._acked.add(seq)
        self.client.proven = True  # the broker took a record: this connection works
        while self._done + 1 in self._acked:
            self._done += 1
            self._acked.discard(self._done)

    def _save_cursor(self, idle):
        behind = self._done - self.journal.cursor
        if behind >= CURSOR_EVERY or (idle and behind > 0):
            self.journal.acknowledge(self._done)

    # -- telemetry -------------------------------------------------------------------------------------

    def telemetry(self):
        board = self.board
        printer = self.printer
        battery, charging = board.battery()
        with Transient("protocol.telemetry") as telemetry:
            return telemetry.build(
                self.serial,
                board.now(),
                board.uptime_s(),
                board.mem_free(),
                model=self.ident["model"],
                fw=FIRMWARE,
                battery_pct=battery,
                charging=charging if battery is not None else None,
                error_code=0,
                paper=printer.paper,
                printed_mm=printer.printed_mm(),
                cutter_count=printer.cuts,
                outbox_depth=self.pending(),
                rssi_dbm=board.rssi(),
                reboot_reason=board.boot_reason,
            )

    def _wear_and_battery(self):
        printer = self.printer
        counters = [printer.lines, printer.cuts]
        if counters != self._counters:  # lifetime wear counters, at most once a heartbeat
            config.write_json(self.board.flash_root + "/counters.json", counters)
            self._counters = counters
        battery = self.board.battery()[0]
        low = battery is not None and battery < _LOW_BATTERY
        if low != self._low_battery:
            self._low_battery = low
            self.till.record(ev.FAULT, {"code": "low_battery", "active": low})

    async def _heartbeat(self):
        await self.client.publish(topics.topic(self.serial, topics.TELEMETRY), codec.encode(self.telemetry()), 0)

    def _on_message(self, topic, payload):
        with Transient("commands") as commands:
            commands.handle(self, topic, payload)
