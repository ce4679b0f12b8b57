"""The one error every decoder and validator in `protocol` raises."""

# Reason codes: short, stable strings the fleet counts malformed messages by.
BAD_TOPIC = "bad_topic"
BAD_JSON = "bad_json"
TOO_LARGE = "too_large"
BAD_VERSION = "bad_version"
MISSING = "missing_field"
WRONG_TYPE = "wrong_type"
BAD_VALUE = "bad_value"
SERIAL_MISMATCH = "serial_mismatch"
BAD_TEXT = "bad_text"  # a NUL or an unpaired surrogate: no database can store it
TOO_DEEP = "too_deep"  # objects and lists nested deeper than any message of the contract


class ProtocolError(ValueError):
    """A message that breaks the contract.

    `code` is one of the reason codes above (for counting), `field` the dotted path of the offending
    field ("" for the whole message), `detail` a human sentence. str() gives "field: detail".
    """

    def __init__(self, code: str, field: str, detail: str) -> None:
        super().__init__(code, field, detail)
        self.code = code
        self.field = field
        self.detail = detail

    def __str__(self) -> str:
        return (self.field + ": " + self.detail) if self.field else self.detail
