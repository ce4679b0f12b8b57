"""Reprint and refund: what a cashier does after a sale, loaded when asked for (see transient.py)."""

import json

import money
from transient import Transient

from protocol import event as ev


def find(till, number, kinds=(ev.SALE, ev.REFUND, ev.VOID)):
    """The last journaled (type, data, ts) with receipt `number` among `kinds`, or None."""
    needle = ('"receipt":"%s"' % number).encode()
    found = None
    for _seq, payload in till.journal.records():
        if needle not in payload:
            continue
        msg = json.loads(payload)
        if msg["type"] in kinds and msg["data"]["receipt"] == number:
            found = (msg["type"], msg["data"], msg["ts"])
    return found


def refunded(till, original):
    needle = ('"original":"%s"' % original).encode()
    total = 0
    for _seq, payload in till.journal.records():
        if needle in payload:
            msg = json.loads(payload)
            if msg["type"] == ev.REFUND and msg["data"]["original"] == original:
                total += msg["data"]["amount"]
    return total


async def reprint(till, number):
    """Print a copy of receipt `number` marked as a copy. Returns (ok, detail)."""
    found = find(till, number) if number else None
    if found is None:
        till.show("Struk tidak ada", number or "")
        return False, "receipt not on this terminal"
    kind, data, ts = found
    till.show("Cetak ulang", number)
    await till.print_job(kind, data, ts, True)
    return True, None


async def refund(till, original, reason="permintaan pelanggan"):
    """Refund what is left of sale `original` with its own receipt. Returns (ok, detail).

    RF5: a sale of today (the terminal's day) is refunded at once; one of an earlier day may be settled,
    and then the merchant's balance pays: the fleet is asked first (`req` refund, answered by a
    `refund_answer` command) and the refund is made only when it says yes. Cash comes from the drawer."""
    found = find(till, original, (ev.SALE,))
    if found is None:
        till.show("Struk tidak ada", original)
        return False, "receipt not on this terminal"
    data = found[1]
    amount = data["paid"] - refunded(till, original)
    if amount <= 0:
        till.show("Sudah direfund", original)
        return False, "already refunded"
    method = data["payments"][0]["method"] if data["payments"] else "cash"
    ref = None
    if method != "cash" and _day(till, found[2]) != _day(till, till.board.now()):
        with Transient("refund_ask") as refund_ask:  # only with a link, and only for such a refund
            ref = await refund_ask.ask(till, original, amount)
        if ref is None:
            return False, "refused"
    refund = {"receipt": till.receipt_no(till.journal.next_seq), "original": original, "amount": amount}
    refund["method"] = method
    refund["reason"] = reason
    if ref:
        refund["ref"] = ref
    till.record(ev.REFUND, refund)
    if method == "cash":
        till.printer.kick_drawer()
    till.show("Refund " + money.rupiah(amount), original)
    await till.print_job(ev.REFUND, refund, till.board.now(), False)
    return True, None


def _day(till, ts):
    return (ts + till.cfg["tz_offset_s"]) // 86400


async def replacement(till, original, amount, ref):
    """FP1: the fleet found a payment with no order. Journal and print a replacement sale paid by a custom
    method: the original cart when this terminal has it and its total is the amount paid, else one line."""
    if not till.journal.has_room():
        return False, "journal full"
    found = find(till, original, (ev.OPEN,)) if original else None
    sale = {"receipt": till.receipt_no(till.journal.next_seq)}
    if found is not None and found[1]["total"] == amount:
        for key in ("items", "subtotal", "discount", "tax", "tax_rate_bp", "tax_inclusive"):
            sale[key] = found[1][key]
    else:
        sale["items"] = [{"name": "Pembayaran " + ref[-12:], "qty": 1, "unit_price": amount}]
        sale.update(subtotal=amount, discount=0, tax=0, tax_rate_bp=0, tax_inclusive=True)
    sale["total"] = amount
    till.record(ev.OPEN, sale)
    line = {"method": "custom", "amount": amount, "ref": ref}
    paid = {"receipt": sale["receipt"], "status": "confirmed"}
    paid.update(line)
    till.record(ev.PAYMENT, paid)
    sale["payments"] = [line]
    sale.update(paid=amount, outstanding=0, status=ev.PAID)
    till.record(ev.SALE, sale)
    till.show("Pesanan pengganti", money.rupiah(amount))
    await till.print_job(ev.SALE, sale, till.board.now(), False)
    return True, None


async def settle(till, number, amount, ref):
    """P3: a pay link for the outstanding amount of sale `number` was paid. Journal the payment and the
    sale now Paid, and print the final receipt."""
    found = find(till, number, (ev.SALE,))
    if found is None:
        return False, "receipt not on this terminal"
    sale = dict(found[1])
    if sale["status"] == ev.PAID or sale["outstanding"] != amount:
        return False, "nothing outstanding for this amount"
    line = {"method": "paylink", "amount": amount, "ref": ref}
    paid = {"receipt": number, "status": "confirmed"}
    paid.update(line)
    till.record(ev.PAYMENT, paid)
    sale["payments"] = sale["payments"] + [line]
    sale.update(paid=sale["paid"] + amount, outstanding=0, status=ev.PAID)
    till.record(ev.SALE, sale)
    till.show("Lunas " + money.rupiah(amount), number)
    await till.print_job(ev.SALE, sale, till.board.now(), False)
    return True, None


_METHODS = (("1", "qris"), ("2", "card"), ("3", "paylater"))


async def request_paylink(till, digits, picked):
    """P1-P2: journal the cashier's request for a pay link for the last receipt's outstanding amount; the
    fleet sends it by SMS when the event reaches it (offline first: the journal carries it there)."""
    number = till.last_receipt
    found = find(till, number, (ev.SALE,)) if number else None
    if found is None or found[1]["status"] == ev.PAID:
        till.show("Tidak ada tagihan", number or "")
        return
    with Transient("paylater") as paylater:
        phone = paylater.phone_number(digits)
    methods = [m for d, m in _METHODS if d in picked] or [m for _, m in _METHODS]
    if len(phone) < 10 or not till.journal.has_room():
        till.show("Gagal", "No. HP salah" if len(phone) < 10 else "Memori penuh")
        return
    till.record(ev.PAYLINK, {"receipt": number, "phone": phone, "methods": methods})
    till.show("Tagihan dikirim", money.rupiah(found[1]["outstanding"]))
