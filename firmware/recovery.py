"""After a power cut: finish or void the sale in flight, print what was closed but never printed.

Loaded once at boot and dropped after (see transient.py).
"""

import json

from protocol import event as ev


async def recover(till):
    """After boot: finish or void the sale in flight and print what was closed but never printed.
    Returns the last sale's receipt number (None: no sale in the journal)."""
    inflight = None
    payments = []  # type: list[dict]
    pending = None
    unprinted = None
    last = None
    for _seq, payload in till.journal.records():
        if b'"type":"fault"' in payload:
            continue
        msg = json.loads(payload)
        kind = msg["type"]
        data = msg["data"]
        if kind == ev.OPEN:
            inflight, payments, pending = data, [], None
        elif kind == ev.PAYMENT:
            if inflight is None or data["receipt"] != inflight["receipt"]:
                continue
            if data["status"] == "confirmed":
                line = {}
                for name in data:
                    if name not in ("receipt", "status", "qr"):
                        line[name] = data[name]
                payments.append(line)
                pending = None
            elif data["status"] == "pending":
                pending = data
            else:
                pending = None
        elif kind in (ev.SALE, ev.VOID, ev.REFUND):
            if inflight is not None and data["receipt"] == inflight["receipt"]:
                inflight = None
            unprinted = (kind, data, msg["ts"])
            if kind == ev.SALE:
                last = data["receipt"]
        elif kind == ev.RECEIPT and not data["copy"]:
            if unprinted is not None and unprinted[1]["receipt"] == data["receipt"]:
                unprinted = None
    if inflight is not None:
        till.sale.resume(inflight, payments)
        if payments:
            till.show("Pemulihan daya", "Transaksi selesai")
            await till.close_sale()
            return till.last_receipt
        if pending is not None:
            till.end_qr("cancelled", {"amount": pending["amount"], "ref": pending["ref"]})
        await till.void_sale("gangguan daya")
    elif unprinted is not None:
        kind, data, ts = unprinted
        await till.print_job(kind, data, ts, False)
    return last
