"""The D menu: reprint, refund, a discount on the sale, and a pay link for the last receipt. Loaded for
each key while the cashier is in it (transient.py): none of it is in the heap while selling.

    D 1 [no] #         reprint (no number: the last receipt)  D 2 no #   refund a receipt
    D 3 amount #       discount on the sale in Rupiah         D 4 pct #  discount in percent
    D 5 phone # [1-3] #   a pay link by SMS for the last receipt's outstanding amount (P1-P2)
"""

import money
from till import CART, IDLE, MENU_INPUT

_ASK = ("Cetak ulang no", "Refund no", "Diskon Rp", "Diskon %", "HP pelanggan")


def key(till, k):
    """One key in the menu. Returns what aftersale.py is to do once this module is dropped (the name of
    its coroutine and the arguments after the till), or None."""
    if till.state == MENU_INPUT:
        return _answer(till, k)
    elif k == "C":
        till.step(CART if till.sale.items else IDLE, "")
    elif k in "12345":
        if k in "34" and not till.sale.items:
            till.step(IDLE, "Keranjang kosong")
            return
        till.menu["choice"] = k
        till.take_entry()
        till.step(MENU_INPUT, _ASK[int(k) - 1])
    return None


def _answer(till, k):
    sale = till.sale
    back = CART if sale.items else IDLE
    if k == "C":
        till.take_entry()
        till.step(back)
        return None
    if k != "#":
        return None
    raw = till.take_entry()
    value = int(raw) if raw else 0
    menu = till.menu
    choice = menu.get("choice")
    till.step(back)
    if choice == "5":  # a pay link for the last receipt: the phone, then the methods (digits 1-3)
        menu["phone"], menu["choice"] = raw, "6"
        till.step(MENU_INPUT, "Metode 1Q 2K 3PL", "# = semua")
    elif choice == "6":
        phone = menu.get("phone", "")
        menu.clear()
        return ("request_paylink", phone, raw)
    elif choice == "1":
        return ("reprint", till.receipt_no(value) if raw else till.last_receipt)
    elif choice == "2":
        return ("refund", till.receipt_no(value))
    else:
        discount = value if choice == "3" else money.percent_of(sale.totals()["subtotal"], min(value, 100))
        if sale.set_discount(discount):
            till.show("Diskon " + money.rupiah(discount), money.rupiah(sale.totals()["total"]))
        else:
            till.show("Diskon > subtotal")
    return None
