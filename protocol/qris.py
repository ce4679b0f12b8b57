"""QRIS (EMVCo merchant-presented QR) payloads: parse, verify and derive a dynamic QR (rule Q1).

A payload is a sequence of TLV fields: a 2-digit tag, a 2-digit length, then that many characters.
Tag 00 (format indicator) comes first, tag 63 (CRC-16/CCITT-FALSE over everything up to and including
"6304") comes last. A dynamic QR for a sale is the merchant's static payload with point of initiation
(tag 01) set to "12" and the amount in tag 54; every other field, tip and fee tags 55-57 included,
is kept as it was. The payload is parsed and rebuilt, never edited as a string.
"""

POI_STATIC = "11"
POI_DYNAMIC = "12"
_AMOUNT_MAX_LEN = 13


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _crc_text(body: str) -> str:
    return "%04X" % crc16_ccitt_false(body.encode())


def fields(payload: str) -> list:
    """Split a TLV string into an ordered list of (tag, value); ValueError when it is malformed."""
    if type(payload) is not str:
        raise ValueError("QRIS payload must be a string")
    out = []
    pos = 0
    end = len(payload)
    while pos < end:
        if pos + 4 > end:
            raise ValueError("truncated TLV header at position %d" % pos)
        tag = payload[pos : pos + 2]
        size = payload[pos + 2 : pos + 4]
        if not (tag.isdigit() and size.isdigit()):
            raise ValueError("malformed TLV header %r at position %d" % (payload[pos : pos + 4], pos))
        pos += 4
        length = int(size)
        if pos + length > end:
            raise ValueError("tag %s declares %d characters but only %d remain" % (tag, length, end - pos))
        out.append((tag, payload[pos : pos + length]))
        pos += length
    return out


def verified_fields(payload: str) -> list:
    """fields(), after checking the structure (00 first, 63 last), unique tags and the CRC."""
    tlv = fields(payload)
    if not tlv or tlv[0][0] != "00":
        raise ValueError("payload must start with tag 00 (payload format indicator)")
    if tlv[-1][0] != "63" or len(tlv[-1][1]) != 4:
        raise ValueError("payload must end with tag 63 holding a 4-character CRC")
    expected = _crc_text(payload[:-4])
    if tlv[-1][1].upper() != expected:
        raise ValueError("CRC mismatch: payload says %s, computed %s" % (tlv[-1][1], expected))
    seen = set()
    for tag, _ in tlv:
        if tag in seen:
            raise ValueError("tag %s appears twice" % tag)
        seen.add(tag)
    return tlv


def parse(payload: str) -> dict:
    """Parse and verify a QRIS payload into {tag: value}; ValueError for a malformed TLV or a bad CRC."""
    return dict(verified_fields(payload))


def build(tlv: list) -> str:
    """Serialise (tag, value) pairs, without tag 63, and append a fresh CRC in tag 63."""
    parts = []
    for tag, value in tlv:
        if tag == "63":
            continue
        if len(value) > 99:
            raise ValueError("tag %s value longer than 99 characters" % tag)
        parts.append(tag + "%02d" % len(value) + value)
    body = "".join(parts) + "6304"
    return body + _crc_text(body)


def to_dynamic(static_payload: str, amount: int) -> str:
    """Derive the dynamic QRIS payload for a sale of `amount` Rupiah from the merchant's static payload."""
    if type(amount) is not int or amount <= 0:
        raise ValueError("amount must be a positive integer number of Rupiah")
    text = str(amount)
    if len(text) > _AMOUNT_MAX_LEN:
        raise ValueError("amount has more than %d digits" % _AMOUNT_MAX_LEN)
    out = []
    placed = False
    for tag, value in verified_fields(static_payload):
        if tag == "63" or tag == "54":
            continue
        if tag == "01":
            value = POI_DYNAMIC
        if not placed and int(tag) > 54:
            out.append(("54", text))
            placed = True
        out.append((tag, value))
    if not placed:
        out.append(("54", text))
    if out[1][0] != "01":  # a static payload without tag 01: it goes right after the format indicator
        out.insert(1, ("01", POI_DYNAMIC))
    return build(out)


def amount(payload: str) -> int | None:
    """The amount in tag 54 of a verified payload as an int, or None when it has none."""
    value = parse(payload).get("54")
    if value is None:
        return None
    if "." in value:
        whole, _, cents = value.partition(".")
        if cents.strip("0"):
            raise ValueError("Rupiah amounts have no cents")
        value = whole
    return int(value)
