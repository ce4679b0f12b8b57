"""Wires the board, configuration, journal, printer and till together and runs them."""

import asyncio

import config
import identity
from journal import Journal
from printer import Printer
from till import Till


async def start(board):
    """Build the till from what is on flash and recover the sale a power cut may have left in flight."""
    ident = identity.load(board.flash_root)
    cfg = config.load(board.flash_root)

    def new_jid():
        return "%08x" % int.from_bytes(board.random(4), "big")

    journal = Journal(board.flash_root + "/journal").open(new_jid)
    journal.after_append = getattr(board, "after_append", None)
    till = Till(board, cfg, journal, Printer(board.printer_port), ident["serial"])
    await till.recover()
    return till


async def run(board):
    till = await start(board)
    worker = asyncio.create_task(till.run())
    await board.run(till)
    worker.cancel()
    till.journal.close()
    board.shutdown()
    return till


def main(board=None):
    if board is None:
        import board as boards

        board = boards.load()
    asyncio.run(run(board))
