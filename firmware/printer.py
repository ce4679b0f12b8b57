"""Printer driver: sends ESC/POS chunks, and stops while the cover is open or the paper is out.

The port (from the board) has write(bytes) and read_byte(timeout_ms). Before every CHECK_EVERY bytes the
driver asks the cover (DLE EOT 2) and the paper sensor (DLE EOT 4); while either stops the printer it
sends nothing, tells the cashier through `on_fault("cover_open" or "paper_out", True)`, polls until the
printer can print again, calls `on_fault(code, False)` and carries on where it stopped. A printer's
receive buffer holds what was sent since the last check, so nothing is lost.
"""

import asyncio

import escpos
from micropython import const

CHECK_EVERY = const(256)
_POLL_MS = const(200)


class Printer:
    def __init__(self, port, on_fault=None):
        self.port = port
        self.on_fault = on_fault  # on_fault(code, active): "cover_open" or "paper_out" began or ended
        self.paper = "unknown"
        self.has_cover_status = True  # until the printer leaves DLE EOT 2 unanswered: then never asked again
        self.printing = False  # sending a job (not while waiting for paper): the link waits meanwhile
        # Head and cutter wear since manufacture (kept on flash by the caller through counters()).
        self.lines = 0
        self.cuts = 0

    def printed_mm(self):
        # A font-A line is 24 dots plus 6 of spacing at 8 dots/mm: 3.75 mm. Raster images count their LF
        # bytes as lines too: close enough for wear, which is what this is for.
        return self.lines * 15 // 4

    def status(self):
        """Ask the paper sensor: 'ok', 'low', 'out' or 'unknown' (no answer)."""
        self.port.write(escpos.STATUS_PAPER)
        self.paper = escpos.paper_status(self.port.read_byte(100))
        return self.paper

    def error(self):
        """Ask the printer's error status (DLE EOT 3): None, 'cutter', 'unrecoverable' or 'overheat'."""
        self.port.write(escpos.STATUS_ERROR)
        return escpos.error_status(self.port.read_byte(100))

    def cover_open(self):
        """Ask the printer whether its cover is open (DLE EOT 2); False when it does not answer. A printer
        that does not answer it is not asked again: each unanswered query would hold the till 100 ms."""
        if not self.has_cover_status:
            return False
        self.port.write(escpos.STATUS_OFFLINE)
        answer = self.port.read_byte(100)
        if answer is None:
            self.has_cover_status = False
        return escpos.cover_open(answer)

    def _stopped(self):
        """What keeps the printer from printing now: 'cover_open', 'paper_out' or None."""
        if self.cover_open():
            return "cover_open"
        return "paper_out" if self.status() == "out" else None

    def _tell(self, code, active):
        if self.on_fault and code:
            self.on_fault(code, active)

    async def _ready(self):
        stopped = self._stopped()
        if stopped is None:
            return
        self.printing = False
        shown = None
        while stopped is not None:
            if stopped != shown:  # the cover closed on an empty roll, say: one fault ends, another begins
                self._tell(shown, False)
                self._tell(stopped, True)
                shown = stopped
            await asyncio.sleep_ms(_POLL_MS)
            stopped = self._stopped()
        self._tell(shown, False)
        self.printing = True

    def kick_drawer(self):
        self.port.write(escpos.drawer_kick())

    async def run(self, chunks):
        """Print every chunk of the iterable; return the number of bytes sent."""
        sent = 0
        since_check = CHECK_EVERY
        self.printing = True
        try:
            for chunk in chunks:
                if since_check + len(chunk) > CHECK_EVERY:
                    await self._ready()
                    since_check = 0
                self.port.write(chunk)
                self.lines += chunk.count(b"\n")
                if escpos.CUT in chunk:
                    self.cuts += 1
                sent += len(chunk)
                since_check += len(chunk)
        finally:
            self.printing = False
        return sent
