"""Rupiah arithmetic and formatting. Money is always an int number of Rupiah."""


def rupiah(amount):
    """Format like an Indonesian receipt: 15000 -> 'Rp 15.000', -2000 -> '-Rp 2.000'."""
    sign = "-" if amount < 0 else ""
    digits = str(-amount if amount < 0 else amount)
    groups = []  # type: list[str]
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + "Rp " + ".".join(groups)


def tax(taxable, rate_bp, inclusive):
    """PPN on `taxable` Rupiah at `rate_bp` basis points (1100 = 11%), rounded half up to whole Rupiah.

    Exclusive: tax is added on top. Inclusive: the tax part already inside `taxable`.
    """
    if rate_bp <= 0 or taxable <= 0:
        return 0
    if inclusive:
        den = 10000 + rate_bp
        return (2 * taxable * rate_bp + den) // (2 * den)
    return (taxable * rate_bp + 5000) // 10000


def percent_of(amount, percent):
    """`percent`% of `amount`, rounded half up (a percentage discount)."""
    return (amount * percent + 50) // 100
