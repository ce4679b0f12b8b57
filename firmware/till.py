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
    D                  the menu (menu.py): reprint, refund, discounts, a pay link for the last receipt
"""

import asyncio
import gc
import time

import config
import money
import receipt
from journal import JournalFull
from micropython import const
from sale import Sale, encode
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
_MAX_QTY = const(9999)


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
        self.sale = Sale(cfg)  # the cart, then the sale at payment (sale.py)
        self.pending = None  # the QRIS or PayLater payment waiting for confirmation
        self.link = None  # the MQTT link, when the terminal has one (PayLater asks the fleet through it)
        self.menu = {}  # the D menu's choice and what it asked so far (menu.py)
        self.last_receipt = None
        printer.on_fault = self._printer_alert
        self.printer_error = None

    # -- journal and display ------------------------------------------------------------------------------

    def record(self, kind, data):
        """Journal one event; returns its sequence number. Called before the event is acted on."""
        seq = self.journal.next_seq
        msg = ev.build(self.serial, self.board.now(), self.journal.jid, seq, kind, data)
        return self.journal.append(encode(msg))

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
            phone = paylater or (self.menu.get("choice") == "5" and state == MENU_INPUT)
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
        elif state == MENU or state == MENU_INPUT:
            with Transient("menu") as menu:
                todo = menu.key(self, k)
            if todo:  # a reprint, a refund, a pay link: run with the menu's code gone
                with Transient("aftersale") as aftersale:
                    await getattr(aftersale, todo[0])(self, *todo[1:])
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

    def take_entry(self):
        """The digits typed so far (cleared)."""
        digits = self.entry
        self.entry = ""
        return digits

    def _take_entry(self):
        digits = self.take_entry()
        return int(digits) if digits else 0

    def step(self, state, top=None, bottom=""):
        """Go to `state` (a PayLater step, the D menu), showing `top` and `bottom` when given."""
        self.state = state
        if top is not None:
            self.show(top, bottom)

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
            if not self.sale.add(line):
                self.show("Keranjang penuh", "Bayar dulu")
                return
            self.qty = 1
            self.state = CART
            self.show(line["name"][:16], money.rupiah(self.sale.totals()["total"]))
        elif k == "B":
            if self.sale.items:
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
            self.menu.clear()
            self.state = MENU
            self.show("1Cetak 2Refund", "3Disk Rp 4Disk %")

    async def _key_pay(self, k):
        outstanding = self.sale.outstanding()
        if k == "1":
            self.state = TENDER
            self.show("Tunai (#=pas)", money.rupiah(outstanding))
        elif k == "2":
            await self._start_qr(outstanding)
        elif k == "3":
            with Transient("card") as card:  # the card flow's code only while a card is tapped
                await card.pay(self, outstanding)
        elif k == "4":
            self.state = DOWN
            self.show("Jumlah DP", "< " + money.rupiah(outstanding))
        elif k == "5":
            with Transient("paylater") as paylater:
                paylater.begin(self)
        elif k == "C":
            await self.void_sale("dibatalkan kasir")

    async def _key_amount(self, k):
        outstanding = self.sale.outstanding()
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
            self.confirmed(line)
            self.printer.kick_drawer()
            await self.close_sale()
        else:
            amount = self._take_entry()
            if not 0 < amount < outstanding:
                self.show("DP harus < total", money.rupiah(outstanding))
                return
            self.confirmed({"method": "cash", "amount": amount, "tendered": amount, "change": 0})
            self.printer.kick_drawer()
            await self.close_sale()

    # -- sale ------------------------------------------------------------------------------------------

    def receipt_no(self, seq):
        return "%s-%06d" % (self.cfg["receipt_prefix"], seq)

    def _open_sale(self):
        if not self.journal.has_room():
            self.show("MEMORI PENUH", "Hubungkan jaringan")
            return
        # Receipt numbers are the journal sequence of the sale's first record: unique across reboots.
        self.record(ev.OPEN, self.sale.open(self.receipt_no(self.journal.next_seq)))
        self.state = PAY
        self._show_pay()

    def _show_pay(self):
        self.show("Bayar " + money.rupiah(self.sale.outstanding()), "1Tunai 2QRIS 3Krt 4DP 5PL")

    def confirmed(self, line):
        """Journal a confirmed payment line of the open sale (PayLater's cash down payment too)."""
        self.record(ev.PAYMENT, self.sale.confirm(line))

    async def close_sale(self):
        sale = self.sale.close()
        self.record(ev.SALE, sale)
        self.last_receipt = sale["receipt"]
        change = self.sale.change()
        self._reset()
        self.show("Kembali " + money.rupiah(change) if change else "Terima kasih", sale["status"])
        await self.print_job(ev.SALE, sale, self.board.now(), False)

    async def void_sale(self, reason):
        data = {"receipt": self.sale.receipt, "total": self.sale.opened["total"], "reason": reason}
        self.record(ev.VOID, data)
        self._reset()
        self.show("Transaksi batal", data["receipt"])
        await self.print_job(ev.VOID, data, self.board.now(), False)

    def _reset(self):
        self.state = IDLE
        self.sale = Sale(self.cfg)
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

    # -- QRIS (card payments: card.py) -----------------------------------------------------------------

    async def _start_qr(self, amount):
        if not self.cfg["qris_static"]:
            self.show("QRIS belum diatur")
            return
        with Transient("protocol.qris") as qris:  # parse and rebuild (Q1); not kept in the heap after
            payload = qris.to_dynamic(self.cfg["qris_static"], amount)
        ref = self.sale.next_ref()
        receipt_no = self.sale.receipt
        data = {"receipt": receipt_no, "method": "qris", "amount": amount, "status": "pending"}
        data["ref"] = ref
        data["qr"] = payload
        self.record(ev.PAYMENT, data)
        timeout = self.cfg["qris_timeout_s"]
        deadline = time.ticks_add(time.ticks_ms(), timeout * 1000)
        self.pending = {"method": "qris", "amount": amount, "ref": ref, "deadline": deadline}
        self.state = AWAIT_QR
        self.show("Scan QRIS", money.rupiah(amount))
        now = self.board.now()
        await self.printer.run(receipt.qris_slip(self.cfg, receipt_no, amount, payload, now, timeout))

    def end_qr(self, status, pending=None):
        """End the QRIS payment waiting (or `pending`, one a power cut left) as cancelled or expired."""
        p = pending or self.pending
        if p is None:  # already ended (a cancel and an expiry racing): nothing is journaled twice
            return
        data = {"receipt": self.sale.receipt, "method": "qris", "amount": p["amount"], "status": status}
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
        if c.get("receipt") not in (None, self.sale.receipt) or c.get("amount") not in (None, p["amount"]):
            return _answer(reply, False, "rejected", "receipt or amount differs from the pending payment")
        line = {"method": method, "amount": p["amount"], "ref": c.get("ref") or p["ref"]}
        if "tenor" in p:
            line["tenor"] = p["tenor"]
        self.pending = None
        self.confirmed(line)
        _answer(reply, True, None, None)
        if self.sale.outstanding():
            self.state = PAY
            self._show_pay()
        else:
            await self.close_sale()

    # -- after the sale and after a power cut: code loaded only when needed ----------------------------

    def expect(self, pending):
        """Something now waits for the fleet's answer: a PayLater payment (paylater.py), a refund (aftersale.py);
        None when nothing does."""
        self.pending = pending

    def back_to_pay(self, top):
        """The payment waited for ended without paying: back to choosing a method."""
        self.pending = None
        self.entry = ""
        self.state = PAY
        self.show(top, "Bayar " + money.rupiah(self.sale.outstanding()))

    async def recover(self):
        """After boot: finish or void the sale in flight and print what was closed but never printed."""
        with Transient("recovery") as recovery:
            self.last_receipt = await recovery.recover(self) or self.last_receipt


def _answer(reply, ok, error, detail):
    if reply is not None:
        reply(ok, error, detail)
    return ok
