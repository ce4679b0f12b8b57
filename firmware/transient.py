"""Code that is loaded when needed and dropped after: the heap holds .mpy code, and a 128 KB heap has no
room for everything at once (BRIEF §5). Frozen into a board's firmware image this costs nothing extra.

    with Transient("protocol.hello") as hello:
        msg = hello.build(...)

What to drop is found, not listed: the modules its import loaded are dropped when the block ends; what
was imported later, while any block was open (a builder's lazy `import protocol.schema`), is dropped when
the last open block ends, so a block never takes away what another task's open block is using. A module
the firmware keeps must therefore be loaded outside every block: `app.start` loads the lazily imported
parts of asyncio and the link before any block can be open.
"""

import sys


def load(name):
    """Import `name` (a dotted name is fine) and return the module itself."""
    return __import__(name, None, None, ("_",))


def drop(name):
    """Forget module `name` so its code can be collected once nothing refers to it."""
    sys.modules.pop(name, None)
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules and hasattr(sys.modules[parent], child):
        delattr(sys.modules[parent], child)


def keep(*names):
    """Load modules the firmware keeps that would otherwise be imported on first use, perhaps inside a
    block (and dropped with it). Called at boot, before any block is open."""
    for name in names:
        load(name)


class Transient:
    depth = 0  # blocks open now, in every task
    base = ()  # type: tuple  # the modules loaded when the first of them began

    def __init__(self, name):
        self.name = name
        self.own = ()  # type: tuple  # the modules this block's import loaded

    def __enter__(self):
        before = tuple(sys.modules)  # a tuple: the smallest copy (a set's table is larger)
        if not Transient.depth:
            Transient.base = before
        Transient.depth += 1
        module = load(self.name)  # no task runs during an import: what is new is this block's
        self.own = tuple(n for n in sys.modules if n not in before)
        return module

    def __exit__(self, *exc):
        for name in self.own:
            drop(name)
        self.own = ()
        Transient.depth -= 1
        if not Transient.depth:
            base = Transient.base
            Transient.base = ()
            for name in [n for n in sys.modules if n not in base]:
                drop(name)
        return False
