"""The cashier's till: an explicit state machine from cart to payment to receipt.

Everything that happens to the till arrives through one inbox and is handled in order by one task:
keys, payment confirmations, commands, and the QRIS timeout. Every business event is journaled before
it is acted on (money taken, drawer opened, receipt printed), so after a power cut `recover()` finds the
sale in flight and completes it (a payment was confirmed) or voids it (none was), and prints what was
closed but not printed.

Keypad (4x4: 0-9 * # A B C D):
    [qty *] plu A      add a product from the price list      [qty *] amount #   add an open amount
    B                  to payment: 1 cash, 2 QRIS, 3 card, 4 down payment, 5 PayLater (paylater.py);
                       C voids the sale
    cash: amount # (or # alone for the exact amount)          down payment: amount #
    C                  clear the entry, empty the cart, cancel a QRIS, leave a menu
    D 1 [no] #         reprint (no number: the last receipt)  D 2 no #   refund a receipt
    D 3 amount #       discount on the sale in Rupiah         D 4 pct #  discount in percent
"""

import asyncio
import gc
import json
import time

import config
import money
import receipt
from journal import JournalFull
from micropython import const
from transient import Transient

from protocol import event as ev

IDLE = "idle"
CART = "cart"
PAY = "pay"
TENDER = "tender"
DOWN = "down"
AWAIT_QR = "await_qr"
MENU = "menu"
MENU_INPUT = "menu_input"

_MAX_DIGITS = const(12)
_MAX_PHONE = const(14)
_MAX_ITEMS = const(200)
_MAX_QTY = const(9999)
# A sale's event must fit the contract's event size (codec.MAX_BYTES, 16 KiB), or no broker and no fleet
# would take it and the outbox would stall behind it: the items may fill it but for room kept for the
# envelope, the totals and eight payment lines of the largest size.
_CART_BYTES = const(16384 - 3072)


class Inbox:
    """A FIFO the till's task waits on; put() never blocks, so any task or callback can feed it."""

    def __init__(self):
        self.items = []
        self._flag = asyncio.Event()

    def put(self, item):
        self.items.append(item)
        self._flag.set()

    async def get(self, timeout_s=None):
        while not self.items:
            self._flag.clear()
            if timeout_s is None:
                await self._flag.wait()
            else:
                await asyncio.wait_for(self._flag.wait(), timeout_s)
        return self.items.pop(0)


def _encode(msg):
    return json.dumps(msg, separators=(",", ":")).encode()


class Till:
    def __init__(self, board, cfg, journal, printer, serial):
        self.board = board
        self.cfg = cfg
        self.journal = journal
        self.printer = printer
        self.serial = serial
        self.inbox = Inbox()
        self.state = IDLE
        self.busy = False
        self.locked = config.read_json(board.flash_root + "/lock.json", {}).get("locked", False)
        self.entry = ""
        self.qty = 1
        self.items = []
        self.cart_bytes = 0  # the items' encoded size: the sale must fit one event (_CART_BYTES)
        self.discount = 0
        self.sale = {}  # type: dict  # the open sale's totals, once journaled ({} between sales)
        self.payments = []  # confirmed payment lines of the open sale
        self.pending = None  # the QRIS or PayLater payment waiting for confirmation
        self.link = None  # the MQTT link, when the terminal has one (PayLater asks the fleet through it)
        self.pl_attempts = 0
        self.menu = None
        self.last_receipt = None
        self.qr_attempts = 0
        printer.on_fault = self._printer_alert
        self.printer_error = None

    # -- journal and display ------------------------------------------------------------------------------

    def record(self, kind, data):
        """Journal one event; returns its sequence number. Called before the event is acted on."""
        seq = self.journal.next_seq
        msg = ev.build(self.serial, self.board.now(), self.journal.jid, seq, kind, data)
        return self.journal.append(_encode(msg))

    def show(self, top, bottom=""):
        self.board.display.show(top, bottom)

    def _printer_alert(self, code, active):
        """The printer stopped (cover open, paper out) or can print again: the cashier and the fleet know."""
        try:
            self.record(ev.FAULT, {"code": code, "active": active})
        except JournalFull:
            pass  # the alert on the display matters more than its record
        if not active:
            self.show("Printer OK" if code == "cover_open" else "Kertas OK", "Mencetak...")
        elif code == "cover_open":
            self.show("PRINTER TERBUKA", "Tutup printer")
        else:
            self.show("KERTAS HABIS", "Isi kertas printer")

    def set_locked(self, locked, reason=None):
        """Lock or unlock new sales (a rental that ended); kept on flash across reboots."""
        self.locked = locked
        config.write_json(self.board.flash_root + "/lock.json", {"locked": locked, "reason": reason or ""})
        self.show("TERKUNCI" if locked else "Dibuka", (reason or "")[:16])

    # -- the task --------------------------------------------------------------------------------------

    def idle(self):
        """True when nothing is queued and nothing is being handled."""
        return not self.busy and not self.inbox.items

    async def run(self):
        """Handle inbox items forever; an error in one item is shown and never stops the till."""
        while True:
            timeout = None
            if self.pending is not None:
                timeout = max(0, time.ticks_diff(self.pending["deadline"], time.ticks_ms())) / 1000
            self.busy = False
            try:
                item = await self.inbox.get(timeout)
            except asyncio.TimeoutError:
                item = ("timeout",)
            self.busy = True
            try:
                await self.handle(item)
            except JournalFull:
                self.show("MEMORI PENUH", "Hubungkan jaringan")
            except Exception as e:  # keep selling: one bad item must not stop the terminal
                self.show("ERROR", str(e)[:32])
                self.board.log_exception(e)
            if not self.inbox.items:
                gc.collect()  # while the cashier is idle: keeps the heap in few, large free blocks

    async def handle(self, item):
        kind = item[0]
        if kind == "key":
            await self.key(item[1])
        elif kind == "confirm":
            await self.confirm(item[1], item[2] if len(item) > 2 else None)
        elif kind == "timeout":
            p = self.pending
            if p is not None and time.ticks_diff(p["deadline"], time.ticks_ms()) <= 0:
                if p["method"] == "paylater":
                    with Transient("paylater") as paylater:
                        await paylater.end(self, "Waktu habis")
                else:
                    self.end_qr("expired")
                    self.show("QRIS kedaluwarsa", "Pilih cara bayar")
        elif kind == "call":
            await item[1]()
        elif kind == "paylater":  # the fleet's answer to a PayLater request: (args, reply)
            with Transient("paylater") as paylater:
                ok, detail = paylater.answer(self, item[1])
            _answer(item[2], ok, None if ok else "rejected", detail)

    # -- keys ------------------------------------------------------------------------------------------

    async def key(self, k):
        state = self.state
        paylater = state[:3] == "pl_"
        if "0" <= k <= "9" and (state in (IDLE, CART, TENDER, DOWN, MENU_INPUT) or paylater):
            phone = paylater or (self.menu == "5" and state == MENU_INPUT)
            if len(self.entry) < (_MAX_PHONE if phone else _MAX_DIGITS):
                self.entry += k
            self.show(self._prompt(), self.entry)
            return
        if self.locked and state == IDLE:  # a cart already started may still be paid
            self.entry = ""
            self.show("TERKUNCI", "Hubungi Biz Support")
            return
        if state in (IDLE, CART):
            await self._key_cart(k)
        elif state == PAY:
            await self._key_pay(k)
        elif state == TENDER or state == DOWN:
            await self._key_amount(k)
        elif state == AWAIT_QR:
            if k == "C":
                self.end_qr("cancelled")
                self.show("QRIS dibatalkan", "Pilih cara bayar")
        elif state == MENU:
            self._key_menu(k)
        elif state == MENU_INPUT:
            await self._key_menu_input(k)
        elif paylater:
            with Transient("paylater") as pl:
                await pl.key(self, k)

    def _prompt(self):
        return {
            TENDER: "Tunai (#=pas)",
            DOWN: "Jumlah DP",
            MENU_INPUT: "Nomor/jumlah",
            "pl_phone": "HP pelanggan",
            "pl_otp": "Kode OTP",
            "pl_tenor": "Tenor (bulan)?",
        }.get(self.state, "Harga/PLU")

    def _take_entry(self):
        value = int(self.entry) if self.entry else 0
        self.entry = ""
        return value

    async def _key_cart(self, k):
        if k == "*":
            self.qty = max(1, min(_MAX_QTY, self._take_entry()))
            self.show("Jumlah x%d" % self.qty)
        elif k == "A" or k == "#":
            value = self._take_entry()
            if k == "A":
                product = config.product(self.cfg, value)
                if product is None:
                    self.show("PLU %d tidak ada" % value)
                    return
                line = {"name": product["name"][:48], "qty": self.qty, "unit_price": product["price"]}
                line["sku"] = str(value)
            else:
                if value <= 0:
                    self.show("Ketik harga", "lalu #")
                    return
                line = {"name": "Barang", "qty": self.qty, "unit_price": value}
            size = len(_encode(line)) + 1
            if len(self.items) >= _MAX_ITEMS or self.cart_bytes + size > _CART_BYTES:
                self.show("Keranjang penuh", "Bayar dulu")
                return
            self.items.append(line)
            self.cart_bytes += size
            self.qty = 1
            self.state = CART
            self.show(line["name"][:16], money.rupiah(self._totals()["total"]))
        elif k == "B":
            if self.items:
                self._open_sale()
            else:
                self.show("Keranjang kosong")
        elif k == "C":
            if self.entry or self.qty != 1:
                self.entry = ""
                self.qty = 1
            else:
                self._reset()
                self.show("Dibatalkan")
        elif k == "D":
            self.state = MENU
            self.show("1Cetak 2Refund", "3Disk Rp 4Disk %")

    async def _key_pay(self, k):
        outstanding = self.outstanding()
        if k == "1":
            self.state = TENDER
            self.show("Tunai (#=pas)", money.rupiah(outstanding))
        elif k == "2":
            await self._start_qr(outstanding)
        elif k == "3":
            await self._card(outstanding)
        elif k == "4":
            self.state = DOWN
            self.show("Jumlah DP", "< " + money.rupiah(outstanding))
        elif k == "5":
            with Transient("paylater") as paylater:
                paylater.begin(self)
        elif k == "C":
            await self.void_sale("dibatalkan kasir")

    async def _key_amount(self, k):
        outstanding = self.outstanding()
        if k == "C":
            self.entry = ""
            self.state = PAY
            self._show_pay()
        elif k != "#":
            return
        elif self.state == TENDER:
            tendered = self._take_entry() if self.entry else outstanding
            if tendered < outstanding:
                self.show("Uang kurang", money.rupiah(outstanding))
                return
            line = {"method": "cash", "amount": outstanding, "tendered": tendered, "change": tendered - outstanding}
            self._confirmed(line)
            self.printer.kick_drawer()
            await self.close_sale()
        else:
            amount = self._take_entry()
            if not 0 < amount < outstanding:
                self.show("DP harus < total", money.rupiah(outstanding))
                return
            self._confirmed({"method": "cash", "amount": amount, "tendered": amount, "change": 0})
            self.printer.kick_drawer()
            await self.close_sale()

    def _key_menu(self, k):
        if k == "C":
            self.state = CART if self.items else IDLE
            self.show("")
        elif k in "12345":
            if k in "34" and not self.items:
                self.show("Keranjang kosong")
                self.state = IDLE
                return
            self.menu = k
            self.entry = ""
            self.state = MENU_INPUT
            self.show(("Cetak ulang no", "Refund no", "Diskon Rp", "Diskon %", "HP pelanggan")[int(k) - 1])

    async def _key_menu_input(self, k):
        if k == "C":
            self.entry = ""
            self.state = CART if self.items else IDLE
            return
        if k != "#":
            return
        had_entry = bool(self.entry)
        raw = self.entry
        value = self._take_entry()
        menu = self.menu
        self.state = CART if self.items else IDLE
        if menu == "5":  # a pay link for the last receipt: the phone, then the methods (digits 1-3)
            self.phone = raw
            self.menu, self.state = "6", MENU_INPUT
            self.show("Metode 1Q 2K 3PL", "# = semua")
        elif menu == "6":
            self.menu = None
            with Transient("aftersale") as aftersale:
                aftersale.request_paylink(self, self.phone, raw)
        elif menu == "1":
            number = self.receipt_no(value) if had_entry else self.last_receipt
            await self.reprint(number)
        elif menu == "2":
            await self.refund(self.receipt_no(value))
        else:
            subtotal = self._totals()["subtotal"]
            discount = value if menu == "3" else money.percent_of(subtotal, min(value, 100))
            if discount > subtotal:
                self.show("Diskon > subtotal")
                return
            self.discount = discount
            self.show("Diskon " + money.rupiah(discount), money.rupiah(self._totals()["total"]))

    # -- sale ------------------------------------------------------------------------------------------

    def receipt_no(self, seq):
        return "%s-%06d" % (self.cfg["receipt_prefix"], seq)

    # The cart's totals, by the names the sale event gives them (the contract checks they add up). Comments,
    # not docstrings, on these: a docstring is code in the heap.
    def _totals(self):
        subtotal = 0
        for line in self.items:
            subtotal += line["qty"] * line["unit_price"] - line.get("discount", 0)
        taxable = subtotal - self.discount
        rate = self.cfg["tax_rate_bp"]
        inclusive = self.cfg["tax_inclusive"]
        tax = money.tax(taxable, rate, inclusive)
        return {
            "subtotal": subtotal,
            "discount": self.discount,
            "tax": tax,
            "tax_rate_bp": rate,
            "tax_inclusive": inclusive,
            "total": taxable + (0 if inclusive else tax),
        }

    def _open_sale(self):
        if not self.journal.has_room():
            self.show("MEMORI PENUH", "Hubungkan jaringan")
            return
        # Receipt numbers are the journal sequence of the sale's first record: unique across reboots.
        self.sale = {"receipt": self.receipt_no(self.journal.next_seq), "items": self.items}
        self.sale.update(self._totals())
        self.record(ev.OPEN, self.sale)
        self.payments = []
        self.qr_attempts = 0
        self.pl_attempts = 0
        self.state = PAY
        self._show_pay()

    def _show_pay(self):
        self.show("Bayar " + money.rupiah(self.outstanding()), "1Tunai 2QRIS 3Krt 4DP 5PL")

    # What the open sale's confirmed payments add up to.
    def _paid(self):
        paid = 0
        for p in self.payments:
            paid += p["amount"]
        return paid

    # What the open sale still asks for: its total less the confirmed payments (PayLater asks it too).
    def outstanding(self):
        return self.sale["total"] - self._paid()

    def _confirmed(self, line):
        data = {"receipt": self.sale["receipt"], "status": "confirmed"}
        data.update(line)
        self.record(ev.PAYMENT, data)
        self.payments.append(line)

    async def close_sale(self):
        sale = dict(self.sale)
        paid = self._paid()
        outstanding = sale["total"] - paid
        sale["payments"] = self.payments
        sale["paid"] = paid
        sale["outstanding"] = outstanding
        sale["status"] = ev.PAID if outstanding == 0 else (ev.PARTIALLY_PAID if paid else ev.UNPAID)
        self.record(ev.SALE, sale)
        self.last_receipt = sale["receipt"]
        change = 0
        for p in self.payments:
            change += p.get("change", 0)
        self._reset()
        self.show("Kembali " + money.rupiah(change) if change else "Terima kasih", sale["status"])
        await self.print_job(ev.SALE, sale, self.board.now(), False)

    async def void_sale(self, reason):
        data = {"receipt": self.sale["receipt"], "total": self.sale["total"], "reason": reason}
        self.record(ev.VOID, data)
        self._reset()
        self.show("Transaksi batal", data["receipt"])
        await self.print_job(ev.VOID, data, self.board.now(), False)

    def _reset(self):
        self.state = IDLE
        self.items = []
        self.cart_bytes = 0
        self.discount = 0
        self.sale = {}
        self.payments = []
        self.pending = None
        self.entry = ""
        self.qty = 1

    async def print_job(self, kind, data, ts, copy):
        """Print a receipt of `kind`, then journal that it was printed (with the bytes it took)."""
        sent = await self.printer.run(receipt.LAYOUTS[kind](self.cfg, data, ts, copy))
        self.record(ev.RECEIPT, {"receipt": data["receipt"], "copy": copy, "of": kind, "bytes": sent})
        error = self.printer.error()
        if error != self.printer_error:  # a printer fault appears or clears: the fleet sees both
            self.printer_error = error
            fault = {"code": "printer_error", "active": error is not None}
            if error:
                fault["detail"] = error
                self.show("PRINTER ERROR", error)
            self.record(ev.FAULT, fault)
        return sent

    # -- QRIS and card ---------------------------------------------------------------------------------

    async def _start_qr(self, amount):
        if not self.cfg["qris_static"]:
            self.show("QRIS belum diatur")
            return
        with Transient("protocol.qris") as qris:  # parse and rebuild (Q1); not kept in the heap after
            payload = qris.to_dynamic(self.cfg["qris_static"], amount)
        self.qr_attempts += 1
        ref = "%s/%d" % (self.sale["receipt"], self.qr_attempts)
        data = {"receipt": self.sale["receipt"], "method": "qris", "amount": amount, "status": "pending"}
        data["ref"] = ref
        data["qr"] = payload
        self.record(ev.PAYMENT, data)
        timeout = self.cfg["qris_timeout_s"]
        deadline = time.ticks_add(time.ticks_ms(), timeout * 1000)
        self.pending = {"method": "qris", "amount": amount, "ref": ref, "deadline": deadline}
        self.state = AWAIT_QR
        self.show("Scan QRIS", money.rupiah(amount))
        now = self.board.now()
        await self.printer.run(receipt.qris_slip(self.cfg, self.sale["receipt"], amount, payload, now, timeout))

    def end_qr(self, status):
        p = self.pending
        if p is None:  # already ended (a cancel and an expiry racing): nothing is journaled twice
            return
        data = {"receipt": self.sale["receipt"], "method": "qris", "amount": p["amount"], "status": status}
        data["ref"] = p["ref"]
        self.record(ev.PAYMENT, data)
        self.pending = None
        self.state = PAY

    async def confirm(self, c, reply=None):
        """A QRIS or PayLater confirmation: {receipt, amount, ref, method}; receipt and amount None = the
        pending one, method None = qris.

        `reply(ok, error, detail)` answers whoever sent it. A confirmation with nothing pending is refused:
        the fleet turns such a payment into a fix-payment case, it is never silently dropped.
        """
        p = self.pending
        method = c.get("method") or "qris"
        waiting = AWAIT_QR if method == "qris" else "pl_wait"
        if p is None or p["method"] != method or self.state != waiting:
            return _answer(reply, False, "rejected", "no %s payment is pending" % method)
        if c.get("receipt") not in (None, self.sale["receipt"]) or c.get("amount") not in (None, p["amount"]):
            return _answer(reply, False, "rejected", "receipt or amount differs from the pending payment")
        line = {"method": method, "amount": p["amount"], "ref": c.get("ref") or p["ref"]}
        if "tenor" in p:
            line["tenor"] = p["tenor"]
        self.pending = None
        self._confirmed(line)
        _answer(reply, True, None, None)
        if self.outstanding():
            self.state = PAY
            self._show_pay()
        else:
            await self.close_sale()

    async def _card(self, amount):
        reader = self.board.card_reader
        if reader is None:
            self.show("Tanpa pembaca", "kartu")
            return
        self.show("Tempel kartu", money.rupiah(amount))
        result = await reader.charge(amount, self.sale["receipt"])
        if not result:
            self.show("Kartu ditolak", "Pilih cara bayar")
            return
        # Only what PCI allows to be kept: the reader's token, the last 4 digits, the approval code.
        last4 = str(result.get("last4", ""))[-4:]
        line = {"method": "card", "amount": amount, "token": str(result["token"])[:64], "last4": last4}
        line["approval"] = str(result.get("approval", ""))[:12]
        self._confirmed(line)
        await self.close_sale()

    # -- after the sale and after a power cut: code loaded only when needed ----------------------------

    async def reprint(self, number):
        """Print a copy of receipt `number` marked as a copy. Returns (ok, detail)."""
        with Transient("aftersale") as aftersale:
            return await aftersale.reprint(self, number)

    async def refund(self, original, reason="permintaan pelanggan"):
        """Refund what is left of sale `original` with its own receipt. Returns (ok, detail)."""
        with Transient("aftersale") as aftersale:
            return await aftersale.refund(self, original, reason)

    async def recover(self):
        """After boot: finish or void the sale in flight and print what was closed but never printed."""
        with Transient("recovery") as recovery:
            await recovery.recover(self)


def _answer(reply, ok, error, detail):
    if reply is not None:
        reply(ok, error, detail)
    return ok
