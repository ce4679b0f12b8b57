"""One customer's sale, apart from the keys, the printer and the journal: the cart, its totals by the
names the sale event gives them, the confirmed payments and what is still owed.

No I/O and no clock: the same code runs on MicroPython and CPython (tests/shared/test_sale.py). The till
journals what the sale hands it; PayLater and recovery go through its methods.
"""

import json

import money

from protocol import event as ev

MAX_ITEMS = 200
# A sale's event must fit the contract's event size (codec.MAX_BYTES, 16 KiB), or no broker and no fleet
# would take it and the outbox would stall behind it: the items may fill it but for room kept for the
# envelope, the totals and eight payment lines of the largest size.
CART_BYTES = 16384 - 3072


def encode(msg):
    return json.dumps(msg, separators=(",", ":")).encode()


class Sale:
    def __init__(self, cfg):
        self.cfg = cfg  # the terminal's settings: its PPN rate and whether prices include it
        self.items = []
        self.size = 0  # the items' encoded size: the sale must fit one event (CART_BYTES)
        self.discount = 0
        self.opened = {}  # type: dict  # the sale as journaled when it went to payment ({}: still a cart)
        self.receipt = ""  # its receipt number, once opened
        self.payments = []  # confirmed payment lines
        self._tries = {}  # payment attempts by kind of reference (QRIS "", PayLater "P")

    # Comments, not docstrings, on these methods: a docstring is code in the heap.

    # Add a cart line; False when the cart is full (lines, or the bytes one event holds).
    def add(self, line):
        size = len(encode(line)) + 1
        if len(self.items) >= MAX_ITEMS or self.size + size > CART_BYTES:
            return False
        self.items.append(line)
        self.size += size
        return True

    # The cart's totals, by the names the sale event gives them (the contract checks they add up).
    def totals(self):
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

    # A discount on the whole sale; False when it is more than the subtotal.
    def set_discount(self, amount):
        if amount > self.totals()["subtotal"]:
            return False
        self.discount = amount
        return True

    # To payment: the OPEN event's data, its receipt number given (the journal's sequence).
    def open(self, receipt):
        data = {"receipt": receipt, "items": self.items}
        data.update(self.totals())
        self.opened = data
        self.receipt = receipt
        self.payments = []
        self._tries = {}
        return data

    # After a power cut: the sale journaled as open, with the payments it had confirmed.
    def resume(self, opened, payments):
        self.opened = opened
        self.receipt = opened["receipt"]
        self.items = opened["items"]
        self.discount = opened["discount"]
        self.payments = payments

    # The next reference of a payment attempt: receipt/1, receipt/2 (QRIS), receipt/P1 (PayLater).
    def next_ref(self, kind=""):
        n = self._tries.get(kind, 0) + 1
        self._tries[kind] = n
        return "%s/%s%d" % (self.receipt, kind, n)

    def paid(self):
        paid = 0
        for p in self.payments:
            paid += p["amount"]
        return paid

    # What the sale still asks for: its total less the confirmed payments.
    def outstanding(self):
        return self.opened["total"] - self.paid()

    # A confirmed payment line; returns the PAYMENT event's data.
    def confirm(self, line):
        data = {"receipt": self.receipt, "status": "confirmed"}
        data.update(line)
        self.payments.append(line)
        return data

    # The SALE event's data: the opened sale, its payments, and its P1 status.
    def close(self):
        sale = dict(self.opened)
        paid = self.paid()
        outstanding = sale["total"] - paid
        sale["payments"] = self.payments
        sale["paid"] = paid
        sale["outstanding"] = outstanding
        sale["status"] = ev.PAID if outstanding == 0 else (ev.PARTIALLY_PAID if paid else ev.UNPAID)
        return sale

    def change(self):
        change = 0
        for p in self.payments:
            change += p.get("change", 0)
        return change
