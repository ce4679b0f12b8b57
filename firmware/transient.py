"""Code that is loaded when needed and dropped after: the heap holds .mpy code, and a 128 KB heap has no
room for everything at once (BRIEF §5). Frozen into a board's firmware image this costs nothing extra.

    with Transient("protocol.hello") as hello:
        msg = hello.build(...)
"""

import sys

# Modules a transient import may pull in besides itself; dropped with it unless they were loaded before.
_DEPENDENCIES = (
    "protocol.schema",
    "protocol.errors",
    "protocol.hello",
    "protocol.command",
    "protocol.ack",
    "protocol.telemetry",
    "protocol.state",
    "protocol.codec",
    "protocol.topics",
    "protocol.request",
    "paylater",
)


def load(name):
    """Import `name` (a dotted name is fine) and return the module itself."""
    return __import__(name, None, None, ("_",))


def drop(name):
    """Forget module `name` so its code can be collected once nothing refers to it."""
    sys.modules.pop(name, None)
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules and hasattr(sys.modules[parent], child):
        delattr(sys.modules[parent], child)


class Transient:
    def __init__(self, name):
        self.name = name
        self.kept = []  # type: list[str]

    def __enter__(self):
        self.kept = [n for n in _DEPENDENCIES if n in sys.modules]
        if self.name in sys.modules:
            self.kept.append(self.name)
        return load(self.name)

    def __exit__(self, *exc):
        for name in _DEPENDENCIES + (self.name,):
            if name not in self.kept:
                drop(name)
        return False
