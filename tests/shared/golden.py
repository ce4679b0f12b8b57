"""Loads the golden example messages in protocol/examples on either runtime."""

import json
import os

ROOT = __file__.rsplit("/tests/", 1)[0]
EXAMPLES = ROOT + "/protocol/examples"


def load(which):
    """All examples in protocol/examples/<which> ("valid" or "invalid"), each with its file name added."""
    folder = EXAMPLES + "/" + which
    docs = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            with open(folder + "/" + name) as f:
                doc = json.load(f)
            doc["name"] = name
            docs.append(doc)
    assert docs, "no examples in " + folder
    return docs


def payload_bytes(doc):
    """The payload of an example exactly as it would travel: raw text, or the JSON object, padded if asked."""
    raw = doc.get("payload_raw")
    data = raw.encode() if raw is not None else json.dumps(doc["payload"]).encode()
    pad = doc.get("pad_to")
    if pad:
        data = data + b" " * (pad - len(data))
    return data


def static_qris():
    with open(EXAMPLES + "/qris_static.txt") as f:
        return f.read().strip()


def raises(exc_type, fn, *args):
    """Call fn(*args); return the exception it raised, failing unless it is an exc_type."""
    try:
        fn(*args)
    except exc_type as e:
        return e
    raise AssertionError("%s%r did not raise %s" % (getattr(fn, "__name__", fn), args, exc_type.__name__))
