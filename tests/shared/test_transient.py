"""#17: transient.py finds what a block loaded by itself (no list to keep up to date), and a block never
takes away what another task's open block is using; on CPython and on the real MicroPython."""

import sys

import golden

sys.path.insert(0, golden.ROOT + "/firmware")
import asyncio

from transient import Transient

FIXTURES = ("tfix_block", "tfix_dep", "tfix_lazy", "tfix_other")


def _forget():
    for name in FIXTURES:
        sys.modules.pop(name, None)


def test_a_block_drops_what_its_import_and_its_code_loaded_and_keeps_what_was_there():
    _forget()
    import tfix_kept  # loaded before the block: the firmware keeps it

    with Transient("tfix_block") as block:
        assert block.VALUE == 3 and "tfix_dep" in sys.modules
        assert block.lazy() == 3 and "tfix_lazy" in sys.modules
    for name in ("tfix_block", "tfix_dep", "tfix_lazy"):
        assert name not in sys.modules, name
    assert sys.modules["tfix_kept"] is tfix_kept


def test_nested_blocks_drop_their_own_at_once():
    _forget()
    with Transient("tfix_other"):
        with Transient("tfix_block"):
            pass
        assert "tfix_block" not in sys.modules and "tfix_dep" not in sys.modules
        assert "tfix_other" in sys.modules
    assert "tfix_other" not in sys.modules


def test_a_block_ending_in_one_task_leaves_another_tasks_open_block_alone():
    _forget()
    seen = []

    async def long_block(opened, go_on):
        with Transient("tfix_block") as block:
            opened.set()
            await go_on.wait()
            seen.append(("tfix_block" in sys.modules, "tfix_dep" in sys.modules, block.lazy()))
        seen.append("tfix_lazy" in sys.modules)

    async def main():
        opened, go_on = asyncio.Event(), asyncio.Event()
        with Transient("tfix_other"):  # began first, ends while the other task's block is open
            task = asyncio.create_task(long_block(opened, go_on))
            await opened.wait()
        assert "tfix_other" not in sys.modules  # its own module goes at once
        go_on.set()
        await task

    asyncio.run(main())
    assert seen == [(True, True, 3), False]
    for name in FIXTURES:
        assert name not in sys.modules, name
