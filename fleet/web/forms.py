"""Turning the ticket page's HTML forms into the domain's action data, and which fields each action asks."""

from typing import Any

from fleet.domain.shipping import COURIERS
from fleet.domain.warranty import Cause

# action → form fields (name, kind); kinds: text, int, bool, courier, cause, kind, list
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "ship": (("courier", "courier"), ("tracking", "text")),
    "ship_return": (("courier", "courier"), ("tracking", "text")),
    "change_courier": (("courier", "courier"), ("tracking", "text")),
    "correct_tracking": (("tracking", "text"),),
    "decide": (("covered", "bool"), ("cause", "cause"), ("evidence_photos", "list"), ("quote_amount", "int")),
    "submit_evidence": (("evidence", "text"),),
    "resolve_dispute": (("covered", "bool"),),
    "request": (("kind", "kind"), ("order_total", "int"), ("shipping", "int")),
    "reject_request": (("reason", "text"),),
    "replace": (("new_serial", "text"),),
    "refer_self_repair": (("warranty_card_number", "text"), ("invoice_number", "text"), ("service_centre", "text")),
}
CHOICES = {"courier": COURIERS, "cause": tuple(Cause), "kind": ("refund", "replacement"), "bool": ("true", "false")}


def action_data(action: str, form: Any) -> dict[str, Any]:
    """The data of `action` from a submitted form; bad numbers are left for the domain to refuse."""
    data: dict[str, Any] = {}
    for name, kind in FIELDS.get(action, ()):
        raw = str(form.get(name) or "").strip()
        if not raw:
            continue
        if kind == "int":
            data[name] = int(raw) if raw.isdigit() else raw
        elif kind == "bool":
            data[name] = raw == "true"
        elif kind == "list":
            data[name] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            data[name] = raw
    return data
