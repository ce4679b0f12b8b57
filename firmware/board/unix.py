"""The unix board: a simulated terminal for tests, benchmarks and virtual terminals.

    micropython main.py --dev DIR [--script FILE|-] [--clock UNIX] [--stay]

DIR/flash is the flash (identity.json, config.json, journal/), DIR/printer.bin receives the printed
ESC/POS bytes, DIR/display.log every display update. The cashier is a script: whitespace-separated keys
("2*1A", "B", "1#") and directives:
    !paper=out|low|ok   set the paper sensor (ok loads a new roll)
    !paper_after=N      the roll runs out after N more printed bytes
    !printer_error=cutter|unrecoverable|overheat|none   the printer's error status (DLE EOT 3)
    !cover=open|closed                    the printer's cover (DLE EOT 2)
    !cover_status=none  the printer does not answer DLE EOT 2 (DIR/printer_queries.txt counts the queries)
    !confirm[=REF]      the acquirer confirms the pending QRIS (tests inject through the board)
    !card=approve|decline   the card reader's next answer
    !battery=N          battery percent
    !sleep=MS           the cashier waits
    !idle               the cashier waits until the till has handled everything
    !await_keys         the cashier waits for DIR/keys.txt (e.g. a code the customer reads out), types
                        what it holds (keys and directives) and deletes it
--cut-after-seq N cuts the power (a real SIGKILL) the moment journal record N is on flash.
--drain: after the script, wait until the broker has acknowledged every journal record, then exit
(exit status 3 if that has not happened within --drain-timeout seconds, default 120).
"""

import asyncio
import gc
import json
import os
import sys
import time

import escpos

from board import Uptime, tls_context

_BUFFER = 512  # the simulated printer's receive buffer, as small as cheap printers have


def _mkdir(path):
    try:
        os.mkdir(path)
    except OSError:
        pass


class SimPrinterPort:
    """A thermal printer on a UART: prints to a file, has a paper sensor, a cover switch and a small
    receive buffer.

    While the paper is out or the cover is open it keeps what arrives in its buffer (printed once it can
    print again) and loses anything beyond, as a real printer does: `lost` counts those bytes.
    """

    def __init__(self, path):
        self.out = open(path, "ab")
        self.paper = "ok"
        self.paper_left = -1  # bytes until the roll runs out; -1: plenty
        self.held = bytearray()
        self.lost = 0
        self.error = 0  # the DLE EOT 3 answer: 0x08 cutter error, 0x20 unrecoverable, 0x40 overheat
        self.cover = False  # True while the cover is open (DLE EOT 2)
        self.answers_cover = True  # False: a printer that leaves DLE EOT 2 unanswered
        self.cover_queries = 0  # DLE EOT 2 queries received (DIR/printer_queries.txt at shutdown)
        self._answer = None

    def write(self, data):
        if data == escpos.STATUS_PAPER:
            self._answer = 0x60 if self.paper == "out" else (0x0C if self.paper == "low" else 0x00)
            return
        if data == escpos.STATUS_ERROR:
            self._answer = 0x12 | self.error  # bits 1 and 4 are always set on the wire
            return
        if data == escpos.STATUS_OFFLINE:
            self.cover_queries += 1
            if self.answers_cover:
                self._answer = 0x12 | (0x04 if self.cover else 0)
            return
        if self.paper == "out" or self.cover:
            room = _BUFFER - len(self.held)
            self.held.extend(data[:room])
            self.lost += max(0, len(data) - room)
            return
        if 0 <= self.paper_left < len(data):
            self._print(data[: self.paper_left])
            self.paper = "out"
            rest = data[self.paper_left :]
            self.paper_left = -1
            self.write(rest)
            return
        if self.paper_left >= 0:
            self.paper_left -= len(data)
        self._print(data)

    def _print(self, data):
        self.out.write(data)
        self.out.flush()

    def read_byte(self, timeout_ms):
        answer = self._answer
        self._answer = None
        return answer

    def load_paper(self):
        self.paper = "ok"
        self.paper_left = -1
        self._print_held()

    def close_cover(self):
        self.cover = False
        self._print_held()

    def _print_held(self):
        if self.paper == "out" or self.cover:
            return
        held = bytes(self.held)
        self.held = bytearray()
        self._print(held)


class SimDisplay:
    def __init__(self, path):
        self.log = open(path, "a")
        self.lines = ("", "")

    def show(self, top, bottom=""):
        self.lines = (top, bottom)
        self.log.write(top + " | " + bottom + "\n")
        self.log.flush()


class SimCardReader:
    """An approved external card reader: answers with a token, the last 4 digits and an approval code.

    With DIR/card_host.txt (the acquirer's card host, e.g. the sandbox gateway's http://HOST:PORT) it
    authorizes there over its own link, as a real reader does, so the fleet can capture the payment;
    without one it approves locally. A scripted `!card=decline` declines before anything is sent.
    """

    def __init__(self, board):
        self.board = board
        self.answers = []
        try:
            with open(board.dev + "/card_host.txt") as f:
                self.host = f.read().strip()
        except OSError:
            self.host = None

    async def charge(self, amount, reference):
        await asyncio.sleep_ms(10)
        answer = self.answers.pop(0) if self.answers else "approve"
        if answer != "approve":
            return None
        if self.host:
            return await self._authorize(amount)
        token = "tok_%08x" % int.from_bytes(self.board.random(4), "big")
        return {"token": token, "last4": "4242", "approval": "%06X" % (amount % 0xFFFFFF)}

    async def _authorize(self, amount):
        host, _, port = self.host.split("://", 1)[1].partition(":")
        with open(self.board.flash_root + "/identity.json") as f:
            terminal = json.load(f)["serial"]
        body = json.dumps({"amount": amount, "terminal": terminal})
        try:
            reader, writer = await asyncio.open_connection(host, int(port or 80))
            head = "POST /reader/v1/authorizations HTTP/1.0\r\nHost: %s\r\n" % host
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
            writer.write(head.encode() + body.encode())
            await writer.drain()
            answer = await reader.read(-1)
            writer.close()
            await writer.wait_closed()
        except OSError:
            return None  # the reader cannot reach its host: declined, the cashier picks another way
        status = answer.split(b" ", 2)[1]
        if status != b"201":
            return None
        return json.loads(answer.split(b"\r\n\r\n", 1)[1])


class Board:
    def __init__(self, argv=None):
        args = _parse(argv if argv is not None else sys.argv[1:])
        self.dev = args.get("dev", "dev")
        _mkdir(self.dev)
        self.flash_root = self.dev + "/flash"
        _mkdir(self.flash_root)
        self.script = args.get("script")
        self.stay = "stay" in args
        self.drain = "drain" in args
        self.drain_timeout = int(args.get("drain-timeout", 120))
        self.cut_after_seq = int(args.get("cut-after-seq", 0))
        self.printer_port = SimPrinterPort(self.dev + "/printer.bin")
        self.display = SimDisplay(self.dev + "/display.log")
        self.card_reader = SimCardReader(self)
        self._battery = 87
        self._t0 = time.ticks_ms()
        self._uptime = Uptime()
        self._base = int(args["clock"]) if "clock" in args else int(time.time())
        # A marker left by a run that did not stop cleanly means it died: a crash or a power cut.
        marker = self.dev + "/running"
        try:
            os.stat(marker)
            self.boot_reason = "crash"
        except OSError:
            self.boot_reason = "power_on"
        with open(marker, "w") as f:
            f.write("1")

    def now(self):
        return self._base + time.ticks_diff(time.ticks_ms(), self._t0) // 1000

    def set_clock(self, t):
        self._base = t
        self._t0 = time.ticks_ms()

    def battery(self):
        return self._battery, False

    def mem_free(self):
        return gc.mem_free()

    def uptime_s(self):
        return self._uptime.seconds()  # since boot, not since the clock was last set

    def rssi(self):
        return None  # no radio on the simulation

    def randint(self, n):
        return int.from_bytes(os.urandom(2), "big") % n

    def connector(self, tls):
        """The board's way to reach the broker: an asyncio stream, TLS-wrapped for mqtts."""

        async def open_connection(host, port):
            if not tls:
                return await asyncio.open_connection(host, port)
            return await asyncio.open_connection(host, port, ssl=tls_context(self.flash_root + "/ca.der"))

        return open_connection

    def random(self, n):
        return os.urandom(n)

    def hw_id(self):
        # Stands in for machine.unique_id(): drawn once per simulated device, kept outside its flash.
        path = self.dev + "/hwid"
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            value = "".join("%02x" % b for b in os.urandom(6))
            with open(path, "w") as f:
                f.write(value)
            return value

    def log_exception(self, e):
        sys.print_exception(e)

    def after_append(self, seq):
        if seq == self.cut_after_seq:
            os.system("kill -9 $PPID")  # the shell's parent is this process: a real SIGKILL
            while True:
                time.sleep(1)

    def shutdown(self):
        with open(self.dev + "/printer_queries.txt", "w") as f:
            f.write("%d\n" % self.printer_port.cover_queries)
        try:
            os.remove(self.dev + "/running")
        except OSError:
            pass

    async def run(self, till, link=None):
        """Feed the scripted cashier to the till; return when the script is done (unless --stay/--drain)."""
        if self.script:
            await self._type(sys.stdin.read() if self.script == "-" else open(self.script).read(), till)
            await _until_idle(till, None)
        if self.drain and link is not None:
            waited = 0
            while link.pending() or till.inbox.items or till.busy:
                await asyncio.sleep_ms(50)
                waited += 50
                if waited > self.drain_timeout * 1000:
                    print("drain: %d records not acknowledged after %d s" % (link.pending(), self.drain_timeout))
                    self.shutdown()
                    sys.exit(3)
            link._save_cursor(True)
        while self.stay:
            await asyncio.sleep(1)

    async def _type(self, text, till):
        for token in text.split():
            if token[0] == "!":
                await self._directive(token[1:], till)
                continue
            for k in token:
                await _until_idle(till, 300)
                till.inbox.put(("key", k))

    async def _directive(self, text, till):
        name, _, value = text.partition("=")
        port = self.printer_port
        if name == "paper":
            if value == "ok":
                port.load_paper()
            else:
                port.paper = value
        elif name == "paper_after":
            port.paper_left = int(value)
        elif name == "cover_status":  # =none: the printer does not answer DLE EOT 2
            port.answers_cover = value != "none"
        elif name == "cover":
            if value == "open":
                port.cover = True
            else:
                port.close_cover()
        elif name == "printer_error":
            port.error = {"cutter": 0x08, "unrecoverable": 0x20, "overheat": 0x40}.get(value, 0)
        elif name == "confirm":
            await _until_idle(till, 300)
            till.inbox.put(("confirm", {"ref": value or None}))
        elif name == "card":
            self.card_reader.answers.append(value)
        elif name == "battery":
            self._battery = int(value)
        elif name == "clock":  # =+SECONDS: the clock moves on (a sale of an earlier day), or =UNIX
            await _until_idle(till, 300)
            self.set_clock(self.now() + int(value[1:]) if value[:1] == "+" else int(value))
        elif name == "sleep":
            await asyncio.sleep_ms(int(value))
        elif name == "idle":
            await _until_idle(till, None)
        elif name == "await_keys":
            path = self.dev + "/keys.txt"
            while True:
                try:
                    with open(path) as f:
                        text = f.read()
                    break
                except OSError:
                    await asyncio.sleep_ms(50)
            os.remove(path)
            await self._type(text, till)
        else:
            raise ValueError("unknown script directive !" + text)


async def _until_idle(till, limit_ms):
    """Wait until the till has handled everything, or `limit_ms` (the cashier types ahead after that)."""
    waited = 0
    while not till.idle():
        await asyncio.sleep_ms(5)
        waited += 5
        if limit_ms is not None and waited >= limit_ms:
            return


def _parse(argv):
    args = {}
    i = 0
    while i < len(argv):
        name = argv[i].lstrip("-")
        if name in ("stay", "drain"):
            args[name] = True
            i += 1
        else:
            args[name] = argv[i + 1]
            i += 2
    return args
