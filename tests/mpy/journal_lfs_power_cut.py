"""The journal on littlefs (vfs.VfsLfs2) over a RAM block device whose power fails after N operations.

    micropython tests/mpy/journal_lfs_power_cut.py ROOT

For every N from 1 to the number of flash operations a whole run makes: format, mount, append records
(acknowledging some, which rewrites the cursor and prunes segments) until the power fails at operation N
(a program operation in flight is torn: half its bytes land); then remount the flash as it was left and
open the journal. Every record that was committed must be there, in order and intact; nothing else but the
one in flight; the sequence continues without reuse; the journal accepts new records.
Ends with "N passed, N failed".

The garbage collector is off for the run (hence the big heap): after a simulated cut, file objects of the
old mount would otherwise be finalised later, and littlefs' finaliser calling into a device that is gone
crashes the unix port. Real flash runs no code after its power dies, so this changes nothing tested.
"""

import gc
import sys

import vfs

sys.path.insert(0, sys.argv[1] + "/firmware")
from journal import Journal

RECORDS = 40
BLOCK = 256
BLOCKS = 64


class PowerFail(OSError):
    pass


class FlakyFlash:
    """A RAM block device (littlefs extended interface) that loses power after `budget` program/erase ops.

    The operation the power dies in is torn: half of it lands. After that the device is dead for good
    (a file object left from before the cut must not write through it later); a reboot mounts a new
    device holding a copy of what the flash holds.
    """

    def __init__(self, image=None):
        self.data = bytearray(image) if image is not None else bytearray(b"\xff" * (BLOCK * BLOCKS))
        self.budget = -1
        self.ops = 0
        self.dead = False

    def _op(self):
        if self.dead:  # (a finaliser calling in with the heap locked gets a MemoryError here instead)
            raise PowerFail(5)
        self.ops += 1
        if self.budget >= 0 and self.ops >= self.budget:
            self.dead = True
        return self.dead

    def readblocks(self, block, buf, off=0):
        if self.dead:
            raise PowerFail(5)
        start = block * BLOCK + off
        buf[:] = self.data[start : start + len(buf)]

    def writeblocks(self, block, buf, off=0):
        dying = self._op()
        start = block * BLOCK + off
        if not dying:
            self.data[start : start + len(buf)] = buf
            return
        for k in range(len(buf) // 2):
            self.data[start + k] = buf[k]
        raise PowerFail(5)

    def ioctl(self, op, arg):
        if op == 4:
            return BLOCKS
        if op == 5:
            return BLOCK
        if op == 6:
            dying = self._op()
            start = arg * BLOCK
            for k in range(BLOCK // 2 if dying else BLOCK):
                self.data[start + k] = 0xFF
            if dying:
                raise PowerFail(5)
            return 0
        return 0


def payload(i):
    return ("rec-%d-" % i + "x" * (i * 7 % 60)).encode()


def journal():
    return Journal("/j/journal", segment_bytes=400, keep_bytes=400, max_bytes=16384, reserve_bytes=512)


def mount(flash):
    try:
        vfs.umount("/j")
    except OSError:
        pass
    vfs.mount(vfs.VfsLfs2(flash), "/j")


def run(budget):
    """One power cycle; returns an error message or None."""
    flash = FlakyFlash()
    vfs.VfsLfs2.mkfs(flash)
    mount(flash)
    flash.budget = budget
    committed = 0
    acked = 0
    jid = None
    try:
        j = journal().open(lambda: "0badcafe")
        jid = j.jid
        for i in range(1, RECORDS + 1):
            committed = j.append(payload(i))
            if i % 4 == 0:
                j.acknowledge(i - 2)
                acked = i - 2
    except (PowerFail, MemoryError):
        pass
    mount(FlakyFlash(flash.data))  # reboot: littlefs must mount whatever the cut left
    j = journal().open(lambda: "fffffff0")
    if jid is not None and j.jid != jid:
        return "journal id changed after a cut"
    records = list(j.records())
    seqs = [s for s, _ in records]
    last = seqs[-1] if seqs else 0
    if last not in (committed, committed + 1):
        return "committed up to %d, found up to %d" % (committed, last)
    if seqs and seqs != list(range(seqs[0], last + 1)):
        return "records not contiguous: %r" % seqs
    for s, p in records:
        if p != payload(s):
            return "record %d damaged" % s
    if j.cursor not in (acked, acked + 4) or j.cursor > last:
        return "cursor %d, acknowledged %d" % (j.cursor, acked)
    if j.next_seq <= max(committed, j.cursor):
        return "sequence would repeat: next %d after %d" % (j.next_seq, committed)
    seq = j.append(b"after")
    if list(j.records(seq))[0] != (seq, b"after"):
        return "cannot append after recovery"
    j.close()
    return None


def main():
    gc.disable()  # see the module docstring
    flash = FlakyFlash()
    vfs.VfsLfs2.mkfs(flash)
    mount(flash)
    j = journal().open(lambda: "0badcafe")
    for i in range(1, RECORDS + 1):
        j.append(payload(i))
        if i % 4 == 0:
            j.acknowledge(i - 2)
    j.close()
    total = flash.ops
    passed = failed = 0
    for budget in range(total + 1):
        error = run(budget)
        if error:
            failed += 1
            print("power cut at operation %d: %s" % (budget, error))
        else:
            passed += 1
    print("flash operations in a full run: %d" % total)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
