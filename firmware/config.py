"""Terminal configuration: config.json on flash over built-in defaults; saved atomically."""

import json
import os

DEFAULTS = {
    "merchant": "TOKO",
    "address": [],
    "footer": "Terima kasih",
    "receipt_prefix": "A1",
    "cols": 32,  # 32: 58 mm printer, 48: 80 mm
    "tax_rate_bp": 1100,  # PPN 11%
    "tax_inclusive": False,
    "products": [],  # [{"plu": 1, "name": "Kopi", "price": 15000}, ...]
    "qris_static": "",  # the merchant's static QRIS payload
    "qris_timeout_s": 120,
    "tz_offset_s": 25200,  # WIB (UTC+7)
    "qr_mode": "raster",  # "raster" (GS v 0, any printer) or "native" (GS ( k)
    "heartbeat_s": 60,
    "broker": "",  # mqtt://host:port or mqtts://host:port; empty: no link, the till works offline
    "keepalive_s": 30,
    "reconnect_max_s": 60,  # reconnect backoff doubles from 1 s up to this, with jitter
}


def load(root):
    """The configuration in `root`/config.json merged over DEFAULTS (a missing or broken file: defaults)."""
    cfg = dict(DEFAULTS)
    stored = read_json(root + "/config.json", None)
    if isinstance(stored, dict):
        cfg.update(stored)
    return cfg


def save(root, cfg):
    """Write the configuration so that a power cut leaves either the old or the new file, never half."""
    write_json(root + "/config.json", cfg)


def write_json(path, value):
    """Replace the JSON file at `path` atomically: a temporary file, closed (committed), then renamed."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.rename(path + ".tmp", path)


def read_json(path, default):
    """The JSON value in `path`, or `default` when the file is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def product(cfg, plu):
    """The product with price look-up number `plu`, or None."""
    for p in cfg["products"]:
        if p.get("plu") == plu:
            return p
    return None
