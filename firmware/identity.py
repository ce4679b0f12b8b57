"""The terminal's identity: the factory-provisioned label (serial, model, hardware revision) on flash."""

import json


class NotProvisioned(Exception):
    pass


def load(root):
    """{"serial", "model", "hw_rev"} from `root`/identity.json, written once at the factory."""
    try:
        with open(root + "/identity.json") as f:
            ident = json.load(f)
    except (OSError, ValueError):
        raise NotProvisioned("no valid identity.json on flash: provision this terminal")
    for key in ("serial", "model", "hw_rev"):
        if not isinstance(ident.get(key), str) or not ident[key]:
            raise NotProvisioned("identity.json lacks " + key)
    return ident
