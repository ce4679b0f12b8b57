"""Wires the board, configuration, journal, printer and till together and runs them."""

import asyncio
import gc

import config
import identity
import transient
from journal import Journal
from micropython import const
from printer import Printer
from till import Till

from protocol.event import FAULT

GC_EVERY = const(4096)


async def start(board):
    """Build the till from what is on flash and recover the sale a power cut may have left in flight."""
    # Collect after every GC_EVERY bytes allocated rather than only when the heap is full: garbage is
    # then freed while it is young, new objects reuse low holes, and the top of the heap stays in large
    # free runs for the QR bitmaps and journal records (tools.bench_firmware, chained data peak 41.7 -> 34 KB
    # with the link's two-task loop; receipts render about 40% slower, still well under a millisecond).
    gc.threshold(GC_EVERY)
    ident = identity.load(board.flash_root)
    cfg = config.load(board.flash_root)

    def new_jid():
        return "%08x" % int.from_bytes(board.random(4), "big")

    journal = Journal(board.flash_root + "/journal").open(new_jid)
    printer = Printer(board.printer_port)
    printer.lines, printer.cuts = config.read_json(board.flash_root + "/counters.json", [0, 0])
    till = Till(board, cfg, journal, printer, ident["serial"])
    if board.boot_reason in ("crash", "watchdog"):
        till.record(FAULT, {"code": "crash_reboot", "active": True, "detail": board.boot_reason})
    await till.recover()
    link = None
    if cfg["broker"]:
        # The link's client uses these parts of asyncio, imported on first use, which may come while the
        # till has a transient block open: loaded now, so no block takes them away.
        transient.keep("asyncio.funcs", "asyncio.lock", "asyncio.stream")
        from link import Link

        credentials = config.read_json(board.flash_root + "/credentials.json", {})
        link = Link(board, ident, credentials, journal, cfg, printer, till)
        till.link = link
    journal.after_append = getattr(board, "after_append", None)  # the link polls the journal itself
    return till, link


async def run(board):
    till, link = await start(board)
    tasks = [asyncio.create_task(till.run())]
    if link is not None:
        tasks.append(asyncio.create_task(link.run()))
    await board.run(till, link)
    if link is not None:
        await link.goodbye()
    for task in tasks:
        task.cancel()
    till.journal.close()
    board.shutdown()
    return till


def main(board=None):
    if board is None:
        import board as boards

        board = boards.load()
    asyncio.run(run(board))
