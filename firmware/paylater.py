"""PayLater at the till (P4): the customer's phone, the OTP they receive, a down payment above their
limit, and the tenor, each step answered by the fleet. Loaded while the cashier is in it (transient.py).

    B 5  phone #        the fleet sends an OTP by SMS to the phone (0812…, 62812… or 812…)
    code #              the code the customer reads out; a wrong one may be typed again (3 tries)
    #                   above the customer's limit: the down payment, taken in cash, first
    tenor #             months, one of the offered plans; the provider then pays the financed amount
    C                   gives up at any step (the fleet is told: a late payment becomes a fix-payment case)

Nothing here is journaled until money moves (the cash down payment, the PayLater payment): a request
goes to the fleet only while the terminal is connected, and a step not answered in ANSWER_S seconds
ends the attempt. Each request carries this attempt's `ref` (receipt/P<n>); an answer for another ref is
refused, so a late answer to an abandoned attempt cannot touch the sale.
"""

import time

import money
from micropython import const

from protocol import codec, command, request, topics

PHONE = "pl_phone"
OTP = "pl_otp"
DOWN = "pl_down"
TENOR = "pl_tenor"
WAIT = "pl_wait"
STATES = (PHONE, OTP, DOWN, TENOR, WAIT)
ANSWER_S = const(30)
_TYPING_S = const(120)  # the cashier types a number, the customer chooses: an idle step ends after this


def phone_number(digits):
    """The cashier's digits as an E.164 Indonesian number: 0812… and 62812… and 812… are all +62812…"""
    if digits[:1] == "0":
        return "+62" + digits[1:]
    if digits[:2] == "62":
        return "+" + digits
    return "+62" + digits


def begin(till):
    """Key 5 on the payment screen."""
    link = till.link
    if link is None or not link.up():
        till.show("PayLater perlu", "koneksi online")
        return
    ref = till.sale.next_ref("P")
    till.expect({"method": "paylater", "ref": ref, "amount": till.sale.outstanding(), "n": 0})
    till.take_entry()
    _cashier(till, PHONE, "HP pelanggan", "")


async def key(till, k):
    p = till.pending
    if k == "C":
        await end(till, "Dibatalkan")
        return
    if k != "#":
        return
    state = till.state
    digits = till.take_entry()
    if state == PHONE:
        phone = phone_number(digits)
        if not 11 <= len(phone) <= 16:
            till.show("No. HP salah", "HP pelanggan")
            return
        args = {"ref": p["ref"], "receipt": till.sale.receipt, "amount": p["amount"], "phone": phone}
        await _ask(till, request.PAYLATER_START, args, "Kirim OTP...")
    elif state == OTP:
        if not digits:
            return
        await _ask(till, request.PAYLATER_OTP, {"ref": p["ref"], "code": digits}, "Cek kode...")
    elif state == DOWN:
        # P4: above the limit the customer pays the difference first; the cash drawer takes it.
        down = p["down"]
        till.confirmed({"method": "cash", "amount": down, "tendered": down, "change": 0})
        till.printer.kick_drawer()
        _show_tenors(till)
    elif state == TENOR:
        tenor = int(digits) if digits else 0
        for plan in p["plans"]:
            if plan["tenor"] == tenor:
                p["tenor"] = tenor
                bottom = money.rupiah(plan["instalment"]) + "/bln"
                await _ask(till, request.PAYLATER_TENOR, {"ref": p["ref"], "tenor": tenor}, "Proses PayLater", bottom)
                return
        _show_tenors(till)


async def _ask(till, name, args, top, bottom=""):
    """Send one request and wait for its answer (a `paylater` command) in WAIT."""
    p = till.pending
    link = till.link
    p["n"] += 1
    msg = request.build(till.serial, till.board.now(), "%s/%d" % (p["ref"], p["n"]), name, args)
    try:
        if not link.up():
            raise OSError("offline")
        await link.client.publish(topics.topic(till.serial, topics.REQ), codec.encode(msg), 1)
    except Exception:
        await end(till, "Koneksi putus")
        return
    p["deadline"] = time.ticks_add(time.ticks_ms(), ANSWER_S * 1000)
    till.step(WAIT, top, bottom)


def answer(till, args):
    """The fleet's answer to this attempt's last request. Returns (ok, detail) for the command's ack."""
    p = till.pending
    if p is None or p["method"] != "paylater" or args["ref"] != p["ref"]:
        return False, "no PayLater waiting for this ref"
    step = args["step"]
    if step == command.PL_OTP:
        _cashier(till, OTP, "Kode OTP", "dari SMS pelanggan")
    elif step == command.PL_WRONG:
        _cashier(till, OTP, "OTP salah", "sisa %d kali" % args.get("left", 0))
    elif step == command.PL_OFFER:
        p["plans"] = args["plans"]
        p["amount"] = args["financed"]
        p["down"] = args.get("down") or 0
        if p["down"]:
            _cashier(till, DOWN, "DP tunai " + money.rupiah(p["down"]), "#=terima C=batal")
        else:
            _show_tenors(till)
    elif step == command.PL_CHARGED:
        # The provider pays the financed amount; pay_confirm (method paylater) completes the sale.
        p["deadline"] = time.ticks_add(time.ticks_ms(), till.cfg["qris_timeout_s"] * 1000)
        till.step(WAIT, "Menunggu", "persetujuan PL")
    else:
        _stop(till, "PayLater ditolak" if step == command.PL_REFUSED else "PayLater gagal")
    return True, None


def _show_tenors(till):
    _cashier(till, TENOR, "Tenor (bulan)?", " ".join(str(plan["tenor"]) for plan in till.pending["plans"]))


def _cashier(till, state, top, bottom):
    """A step the cashier (or the customer) answers: it ends unanswered after _TYPING_S."""
    till.pending["deadline"] = time.ticks_add(time.ticks_ms(), _TYPING_S * 1000)
    till.step(state, top, bottom)


async def end(till, top):
    """The cashier gave up, or no answer came: tell the fleet (best effort) and go back to payment."""
    p = till.pending
    link = till.link
    if p is not None and p["n"] and link is not None and link.up():
        p["n"] += 1
        msg = request.build(till.serial, till.board.now(), "%s/%d" % (p["ref"], p["n"]), request.PAYLATER_CANCEL, {})
        msg["args"]["ref"] = p["ref"]
        try:
            await link.client.publish(topics.topic(till.serial, topics.REQ), codec.encode(msg), 1)
        except Exception:
            pass  # the fleet's session runs out on its own; a late payment still becomes a case
    _stop(till, top)


def _stop(till, top):
    till.back_to_pay(top)
