"""Field specs and the one checker every message kind uses.

A spec is a tuple of fields; a field is a tuple `(name, type, required, a, b)`:

    STR    a..b characters         INT    a <= value <= b (bool is not an int here)
    BOOL   -                       ENUM   value in a (a tuple of strings)
    OBJ    a nested spec           LIST   at most a items, each an object checked against spec b
    STRS   at most a strings of at most b characters each
    MAP    any JSON object of at most a keys (opaque to the contract, e.g. terminal config)

Unknown fields are ignored so that v1 can grow by adding optional fields; `null` counts as absent.
"""

from protocol.errors import BAD_VALUE, MISSING, WRONG_TYPE, ProtocolError

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


def fail(where: str, detail: str) -> None:
    """Raise the bad-value error for a rule that spans fields (totals that do not add up, ...)."""
    raise ProtocolError(BAD_VALUE, where, detail)


# Fields many kinds share.
TS = ("ts", INT, True, 0, TS_MAX)
TS_OPTIONAL = ("ts", INT, False, 0, TS_MAX)
RECEIPT = ("receipt", STR, True, 1, 24)
