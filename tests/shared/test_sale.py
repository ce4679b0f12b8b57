"""#17: the sale apart from the till (firmware/sale.py): cart, totals by name, payments, what is owed and
the P1 status, the same on CPython and on the real MicroPython."""

import sys

import golden

sys.path.insert(0, golden.ROOT + "/firmware")
from sale import CART_BYTES, MAX_ITEMS, Sale, encode

PPN_ADDED = {"tax_rate_bp": 1100, "tax_inclusive": False}
PPN_INSIDE = {"tax_rate_bp": 1100, "tax_inclusive": True}
NO_PPN = {"tax_rate_bp": 0, "tax_inclusive": False}


def _line(price, qty=1, name="Kopi"):
    return {"name": name, "qty": qty, "unit_price": price}


def test_totals_are_named_and_ppn_is_added_or_included():
    exclusive = Sale(PPN_ADDED)
    assert exclusive.add(_line(10000, 2)) and exclusive.add(_line(5000))
    assert exclusive.totals() == {
        "subtotal": 25000,
        "discount": 0,
        "tax": 2750,
        "tax_rate_bp": 1100,
        "tax_inclusive": False,
        "total": 27750,
    }
    inclusive = Sale(PPN_INSIDE)
    inclusive.add(_line(11100))
    assert inclusive.totals()["tax"] == 1100 and inclusive.totals()["total"] == 11100


def test_a_discount_above_the_subtotal_is_refused_and_one_within_lowers_the_tax():
    sale = Sale(PPN_ADDED)
    sale.add(_line(20000))
    assert not sale.set_discount(20001) and sale.discount == 0
    assert sale.set_discount(10000)
    assert sale.totals()["tax"] == 1100 and sale.totals()["total"] == 11100


def test_the_cart_stops_at_its_line_count_and_at_what_one_event_holds():
    few = Sale(NO_PPN)
    for _ in range(MAX_ITEMS):
        assert few.add(_line(1000))
    assert not few.add(_line(1000)) and len(few.items) == MAX_ITEMS
    big = Sale(NO_PPN)
    long_name = "x" * 48
    while big.add(_line(1000, name=long_name)):
        pass
    assert big.size <= CART_BYTES < big.size + len(encode(_line(1000, name=long_name))) + 1
    assert len(big.items) < MAX_ITEMS


def test_p1_payments_leave_an_outstanding_amount_and_the_status_follows_it():
    sale = Sale(NO_PPN)
    sale.add(_line(50000))
    opened = sale.open("V00-000007")
    assert (
        sale.receipt == opened["receipt"] == "V00-000007" and opened["total"] == 50000 and opened["items"] == sale.items
    )
    assert sale.close()["status"] == "unpaid"
    data = sale.confirm({"method": "cash", "amount": 20000, "tendered": 20000, "change": 0})
    assert data == {"receipt": "V00-000007", "status": "confirmed", "method": "cash", "amount": 20000,
                    "tendered": 20000, "change": 0}  # fmt: skip
    assert sale.paid() == 20000 and sale.outstanding() == 30000
    partly = sale.close()
    assert partly["status"] == "partially_paid" and partly["outstanding"] == 30000 and partly["paid"] == 20000
    sale.confirm({"method": "cash", "amount": 30000, "tendered": 50000, "change": 20000})
    paid = sale.close()
    assert paid["status"] == "paid" and paid["outstanding"] == 0 and len(paid["payments"]) == 2
    assert sale.change() == 20000


def test_each_payment_attempt_has_its_own_reference_by_kind():
    sale = Sale(NO_PPN)
    sale.add(_line(1000))
    sale.open("V00-000009")
    assert [sale.next_ref(), sale.next_ref(), sale.next_ref("P"), sale.next_ref()] == [
        "V00-000009/1",
        "V00-000009/2",
        "V00-000009/P1",
        "V00-000009/3",
    ]
    sale.open("V00-000009")  # a sale opened again starts counting again
    assert sale.next_ref() == "V00-000009/1"


def test_a_sale_resumed_after_a_power_cut_closes_with_the_payments_it_had():
    before = Sale(PPN_ADDED)
    before.add(_line(10000))
    before.set_discount(1000)
    opened = before.open("V00-000011")
    after = Sale(PPN_ADDED)
    after.resume(opened, [{"method": "qris", "amount": opened["total"], "ref": "V00-000011/1"}])
    closed = after.close()
    assert closed["status"] == "paid" and closed["discount"] == 1000 and closed["items"] == opened["items"]
