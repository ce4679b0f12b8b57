"""Power cuts: the firmware process is killed with SIGKILL at many points during sales, and restarted.

Afterwards no completed sale is lost or doubled, the journal holds no corrupt record, and the sale in
flight at each cut was completed (a payment had been confirmed) or cleanly voided, and printed as such.
Runs the .mpy build, as a board would.
"""

import random
import signal
import time
from collections import Counter

import pytest

from tests.firmware_helpers import events, new_terminal, of_type, sell
from tools import terminal

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)

SESSION = "1A B 1# 2*2A B 2 !confirm=R 3A B 4 5000# 1A B C 2A B 3 1A 2A B 1 50000# D 2 1# D 1 #"
KILLS = 36


def in_flight(evs):
    opened = {d["receipt"] for d in of_type(evs, "open")}
    closed = {d["receipt"] for d in of_type(evs, "sale") + of_type(evs, "void")}
    return opened - closed


def check_invariants(dev, evs):
    """What must hold after any number of power cuts and a clean recovery."""
    assert terminal.journal_damage(dev) == 0
    assert not in_flight(evs)
    closings = Counter(d["receipt"] for d in of_type(evs, "sale") + of_type(evs, "void"))
    assert set(closings.values()) <= {1}, "a sale is closed once: paid or voided, never both, never twice"
    for sale in of_type(evs, "sale"):
        confirmed = [
            {k: v for k, v in p.items() if k not in ("receipt", "status")}
            for p in of_type(evs, "payment", receipt=sale["receipt"], status="confirmed")
        ]
        assert sale["payments"] == confirmed, "every confirmed payment is in its sale, once"
        assert sale["paid"] == sum(p["amount"] for p in confirmed)
    for void in of_type(evs, "void"):
        assert not of_type(evs, "payment", receipt=void["receipt"], status="confirmed"), "paid sales are never voided"
    printed = Counter((r["of"], r["receipt"]) for r in of_type(evs, "receipt", copy=False))
    for kind in ("sale", "void", "refund"):
        for data in of_type(evs, kind):
            assert printed[(kind, data["receipt"])] == 1, f"{kind} {data['receipt']} must be printed once"
    refunds = Counter()
    for refund in of_type(evs, "refund"):
        refunds[refund["original"]] += refund["amount"]
    paid = {s["receipt"]: s["paid"] for s in of_type(evs, "sale")}
    assert all(refunds[r] <= paid[r] for r in refunds), "never refunded more than was paid"


def test_a_cut_right_after_each_journal_record_is_recovered(tmp_path, firmware_mpy):
    """Deterministic cut points: after record 1, 2, ... of a session, a real SIGKILL; then a clean boot."""
    reference = new_terminal(tmp_path, name="reference")
    total = len(sell(reference, SESSION, code=firmware_mpy))
    recovered_by_payment = 0
    for n in range(1, total + 1):
        dev = new_terminal(tmp_path, name=f"cut-{n}")
        proc = terminal.run(dev, SESSION, code=firmware_mpy, cut_after_seq=n)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert max(e["seq"] for e in events(dev)) == n
        evs = sell(dev, "", code=firmware_mpy)
        check_invariants(dev, evs)
        recovered_by_payment += "Pemulihan daya | Transaksi selesai" in terminal.display(dev)
    assert recovered_by_payment >= 3, "cuts between a confirmed payment and the sale record were exercised"


def test_sigkill_at_many_points_loses_and_doubles_nothing(tmp_path, firmware_mpy):
    dev = new_terminal(tmp_path)
    start = time.monotonic()
    sell(dev, SESSION, code=firmware_mpy)
    duration = time.monotonic() - start
    rng = random.Random(20261122)
    cut_mid_sale = 0
    for i in range(KILLS):
        proc = terminal.spawn(dev, SESSION, code=firmware_mpy)
        time.sleep(duration * (i + rng.random()) / KILLS)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        cut_mid_sale += bool(in_flight(events(dev)))
    evs = sell(dev, "", code=firmware_mpy)  # a last boot with nothing to do but recover
    assert cut_mid_sale >= 3, "the kills should land inside sales"
    check_invariants(dev, evs)
