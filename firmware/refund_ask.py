"""RF5: asking the fleet whether a sale of an earlier day may be refunded (it may be settled, and then the
merchant's balance pays). Loaded only for such a refund (transient.py): a `req` refund, answered by a
`refund_answer` command that commands.py hands to the waiting refund.
"""

import asyncio
import time

import money
from micropython import const
from transient import Transient

from protocol import codec, topics

_ANSWER_MS = const(30000)  # how long the cashier waits for the fleet's answer


async def ask(till, original, amount):
    """RF5: ask the fleet whether an earlier day's sale may be refunded; its ref when yes, else None."""
    link = till.link
    if link is None or not link.up():
        till.show("Refund perlu", "koneksi online")
        return None
    now = till.board.now()
    ref = "%s/R%d" % (original, now % 100000)
    with Transient("protocol.request") as request:
        msg = request.build(till.serial, now, ref, request.REFUND, {"ref": ref, "original": original, "amount": amount})
    waiting = {"method": "refund", "ref": ref, "answer": None}  # type: dict
    till.expect(waiting)  # commands.py puts the fleet's answer in it
    till.show("Cek saldo...", money.rupiah(amount))
    try:
        await link.client.publish(topics.topic(till.serial, topics.REQ), codec.encode(msg), 1)
        deadline = time.ticks_add(time.ticks_ms(), _ANSWER_MS)
        while waiting["answer"] is None and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            await asyncio.sleep_ms(100)
    except Exception:
        pass  # the link went down: no answer, the cashier may try again
    finally:
        till.expect(None)
    answer = waiting["answer"]
    if answer is None:
        till.show("Tanpa jawaban", "Coba lagi")
        return None
    if not answer["ok"]:
        till.show("Refund ditolak", "Saldo kurang" if "balance" in answer.get("detail", "") else "")
        return None
    return ref
