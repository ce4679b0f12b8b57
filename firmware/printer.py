"""Printer driver: sends ESC/POS chunks, and stops while the paper is out.

The port (from the board) has write(bytes) and read_byte(timeout_ms). Before every CHECK_EVERY bytes the
driver asks the paper sensor (DLE EOT 4); when the paper is out it stops sending, tells the cashier
through `on_paper(True)`, polls until paper is back, calls `on_paper(False)` and carries on where it
stopped. A printer's receive buffer holds what was sent since the last check, so nothing is lost.
"""

import asyncio

import escpos
from micropython import const

CHECK_EVERY = const(256)
_POLL_MS = const(200)


class Printer:
    def __init__(self, port, on_paper=None):
        self.port = port
        self.on_paper = on_paper
        self.paper = "unknown"
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

    async def _ready(self):
        if self.status() != "out":
            return
        if self.on_paper:
            self.on_paper(True)
        self.printing = False
        while self.status() == "out":
            await asyncio.sleep_ms(_POLL_MS)
        self.printing = True
        if self.on_paper:
            self.on_paper(False)

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
