"""Field specs and the one checker every message kind uses.

A spec is a tuple of fields; a field is a tuple `(name, type, required, a, b)`:

    STR    a..b characters         INT    a <= value <= b (bool is not an int here)
    BOOL   -                       ENUM   value in a (a tuple of strings)
    OBJ    a nested spec           LIST   at most a items, each an object checked against spec b
    STRS   at most a strings of at most b characters each
    MAP    any JSON object of at most a keys (opaque to the contract, e.g. terminal config)

Unknown fields are ignored so that v1 can grow by adding optional fields; `null` counts as absent. What
every message must be before any spec is read, unknown fields included, is `check_storable`'s: text that a
database can store, nested no deeper than MAX_DEPTH.
"""

from protocol.errors import BAD_TEXT, BAD_VALUE, MISSING, TOO_DEEP, WRONG_TYPE, ProtocolError

STR = 1
INT = 2
BOOL = 3
ENUM = 4
OBJ = 5
LIST = 6
STRS = 7
MAP = 8

TS_MAX = 4102444800  # 2100-01-01: a clock beyond this is broken, not the future
MONEY_MAX = 1000000000000  # 1 trillion Rupiah: far beyond one sale, well inside an int64

_TYPE_NAMES = {
    STR: "a string",
    INT: "an integer",
    BOOL: "a boolean",
    ENUM: "a string",
    OBJ: "an object",
    LIST: "a list",
    STRS: "a list",
    MAP: "an object",
}
_PY_TYPES = {STR: str, INT: int, BOOL: bool, ENUM: str, OBJ: dict, LIST: list, STRS: list, MAP: dict}


def check(value: object, spec: tuple, path: str = "") -> dict:
    """Check that `value` is an object matching `spec`; return it, or raise ProtocolError naming the field."""
    if type(value) is not dict:
        raise ProtocolError(WRONG_TYPE, path, "expected an object")
    for field in spec:
        name = field[0]
        where = path + "." + name if path else name
        item = value.get(name)
        if item is None:
            if field[2]:
                raise ProtocolError(MISSING, where, "is required")
            continue
        check_field(item, field, where)
    return value


def check_field(item: object, field: tuple, where: str) -> None:
    """Check one present value against its field tuple."""
    kind = field[1]
    if type(item) is not _PY_TYPES[kind]:
        raise ProtocolError(WRONG_TYPE, where, "must be " + _TYPE_NAMES[kind])
    if kind == STR:
        if not field[3] <= len(item) <= field[4]:  # type: ignore[arg-type]
            raise ProtocolError(BAD_VALUE, where, "length must be %d..%d" % (field[3], field[4]))
    elif kind == INT:
        if not field[3] <= item <= field[4]:
            raise ProtocolError(BAD_VALUE, where, "must be in %d..%d" % (field[3], field[4]))
    elif kind == ENUM:
        if item not in field[3]:
            raise ProtocolError(BAD_VALUE, where, "must be one of " + ", ".join(field[3]))
    elif kind == OBJ:
        check(item, field[3], where)
    elif kind == LIST:
        if len(item) > field[3]:  # type: ignore[arg-type]
            raise ProtocolError(BAD_VALUE, where, "at most %d items" % field[3])
        for i, element in enumerate(item):  # type: ignore[arg-type, var-annotated]
            check(element, field[4], where + "[" + str(i) + "]")
    elif kind == STRS:
        if len(item) > field[3]:  # type: ignore[arg-type]
            raise ProtocolError(BAD_VALUE, where, "at most %d items" % field[3])
        for i, element in enumerate(item):  # type: ignore[arg-type]
            if type(element) is not str or not 1 <= len(element) <= field[4]:
                raise ProtocolError(
                    BAD_VALUE, where + "[" + str(i) + "]", "must be a string of 1..%d characters" % field[4]
                )
    elif kind == MAP:
        if len(item) > field[3]:  # type: ignore[arg-type]
            raise ProtocolError(BAD_VALUE, where, "at most %d keys" % field[3])


# Objects and lists inside one another: a message (1), its data (2), a list of items (3), an item (4), and
# room for opaque maps (terminal config) to hold a list of objects. Deeper is hostile, never a sale.
MAX_DEPTH = 6
_SURROGATE_UTF8 = b"\xed"  # the lead byte of U+D000..U+DFFF in UTF-8, surrogates included
_encode_refuses_surrogates = None  # CPython's str.encode raises on a lone surrogate; MicroPython's does not


def storable_text(text: str) -> bool:
    """True unless `text` holds a NUL or an unpaired UTF-16 surrogate (PostgreSQL refuses the first, every
    UTF-8 encoder the second). MicroPython's JSON reader keeps an escaped pair as two surrogates: a pair is
    fine, a lone half is not."""
    global _encode_refuses_surrogates
    if "\x00" in text:
        return False
    if _encode_refuses_surrogates is None:
        try:
            "\ud800".encode()
            _encode_refuses_surrogates = False
        except UnicodeError:
            _encode_refuses_surrogates = True
    try:
        data = text.encode()
    except UnicodeError:
        return False
    if _encode_refuses_surrogates or _SURROGATE_UTF8 not in data:
        return True
    pending_high = False  # MicroPython: walk the pairs
    for ch in text:
        code = ord(ch)
        if 0xD800 <= code <= 0xDBFF:
            if pending_high:
                return False
            pending_high = True
        elif 0xDC00 <= code <= 0xDFFF:
            if not pending_high:
                return False
            pending_high = False
        elif pending_high:
            return False
    return not pending_high


def plainly_storable(payload: bytes) -> bool:
    """True when raw JSON can hold no unstorable text and no nesting past MAX_DEPTH, read off its bytes:
    no escape (a NUL or a surrogate needs one), no byte that starts a surrogate in UTF-8, and too few
    brackets to nest that deep. Most messages are; the others are walked by check_storable."""
    return (
        b"\\u" not in payload
        and _SURROGATE_UTF8 not in payload
        and b"\x00" not in payload
        and payload.count(b"{") + payload.count(b"[") <= MAX_DEPTH
    )


def check_storable(value: object) -> None:
    """Raise ProtocolError unless every key and string in `value` is storable text and no object or list
    is nested more than MAX_DEPTH deep (fields the specs do not know included: they are stored as sent)."""
    found = _unstorable(value, 0)
    if found is not None:
        code, parts = found
        where = "".join(reversed(parts)).lstrip(".")
        if code == TOO_DEEP:
            raise ProtocolError(TOO_DEEP, where, "nested more than %d deep" % MAX_DEPTH)
        raise ProtocolError(BAD_TEXT, where, "holds a NUL character or an unpaired surrogate")


def _unstorable(value: object, depth: int):  # type: ignore[no-untyped-def]
    """None, or (reason code, the path to the fault as parts, innermost first). The path is only built for
    a fault: this runs over every field of every message."""
    kind = type(value)
    if kind is str:
        return None if storable_text(value) else (BAD_TEXT, [])  # type: ignore[arg-type]
    if kind is not dict and kind is not list:
        return None
    if depth >= MAX_DEPTH:
        return (TOO_DEEP, [])
    if kind is dict:
        for key in value:  # type: ignore[attr-defined]
            if not storable_text(key):
                return (BAD_TEXT, [])  # a key: the object holding it is at fault
            found = _unstorable(value[key], depth + 1)  # type: ignore[index]
            if found is not None:
                found[1].append("." + key)
                return found
    else:
        for i, item in enumerate(value):  # type: ignore[arg-type, var-annotated]
            found = _unstorable(item, depth + 1)
            if found is not None:
                found[1].append("[%d]" % i)
                return found
    return None


def fail(where: str, detail: str) -> None:
    """Raise the bad-value error for a rule that spans fields (totals that do not add up, ...)."""
    raise ProtocolError(BAD_VALUE, where, detail)


# Fields many kinds share.
TS = ("ts", INT, True, 0, TS_MAX)
TS_OPTIONAL = ("ts", INT, False, 0, TS_MAX)
RECEIPT = ("receipt", STR, True, 1, 24)
