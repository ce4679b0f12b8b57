"""A card payment at the till: the reader charges the amount, and only what PCI allows is kept (the
reader's token, the last four digits, the approval code). Loaded while the customer taps (transient.py).
"""

import money


async def pay(till, amount):
    reader = till.board.card_reader
    if reader is None:
        till.show("Tanpa pembaca", "kartu")
        return
    till.show("Tempel kartu", money.rupiah(amount))
    result = await reader.charge(amount, till.sale.receipt)
    if not result:
        till.show("Kartu ditolak", "Pilih cara bayar")
        return
    # Only what PCI allows to be kept: the reader's token, the last 4 digits, the approval code.
    last4 = str(result.get("last4", ""))[-4:]
    line = {"method": "card", "amount": amount, "token": str(result["token"])[:64], "last4": last4}
    line["approval"] = str(result.get("approval", ""))[:12]
    till.confirmed(line)
    await till.close_sale()
