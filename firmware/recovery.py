"""After a power cut: finish or void the sale in flight, print what was closed but never printed.

Loaded once at boot and dropped after (see transient.py).
"""

import json

from protocol import event as ev


async def recover(till):
    """After boot: finish or void the sale in flight and print what was closed but never printed."""
    inflight = None
    payments = []  # type: list[dict]
    pending = None
    unprinted = None
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
                till.last_receipt = data["receipt"]
        elif kind == ev.RECEIPT and not data["copy"]:
            if unprinted is not None and unprinted[1]["receipt"] == data["receipt"]:
                unprinted = None
    if inflight is not None:
        till.sale = inflight
        till.payments = payments
        if payments:
            till.show("Pemulihan daya", "Transaksi selesai")
            await till.close_sale()
        else:
            if pending is not None:
                till.pending = {"amount": pending["amount"], "ref": pending["ref"]}
                till.end_qr("cancelled")
            await till.void_sale("gangguan daya")
    elif unprinted is not None:
        kind, data, ts = unprinted
        await till.print_job(kind, data, ts, False)
