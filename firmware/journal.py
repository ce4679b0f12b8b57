"""Power-safe, append-only journal on flash: every business event is written here before it is acted on.

Layout in the journal directory:
    jid              8 hex digits drawn when the journal is created (part of every idempotency key)
    0000000001.log   segments, named by the sequence number of their first record
    cursor           the highest sequence number the broker has acknowledged (the outbox's position)

A record is  magic (1) | payload length (2) | seq (4) | payload | CRC-32 of seq+payload (4), little-endian.
Each append is one write followed by flush: littlefs commits a file on flush, so after a power cut a
segment ends at the last complete record, or (on other filesystems) with a torn record that recovery
cuts off. Files are never truncated in place (MicroPython has no truncate): recovery copies the good
prefix to a temporary file and renames it over the segment, which littlefs does atomically. The cursor
is rewritten the same way. Sequence numbers continue from the highest one on flash, so they never
repeat across reboots.
"""

import binascii
import os
import struct

try:
    from micropython import const
except ImportError:  # CPython: tools and tests read journals with this same code

    def const(x):  # type: ignore[misc]  # the stand-in for MicroPython's compile-time constant
        return x


_MAGIC = const(0xA5)
_HEAD = const(7)
_TAIL = const(4)
_COPY_CHUNK = const(512)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(text.encode())
    os.rename(tmp, path)


def _segment_name(seq):
    return "%010d.log" % seq


class JournalFull(Exception):
    """Unacknowledged records fill the journal's budget: no new sale may start."""


class Journal:
    """Append records, read them back in order, and track what the broker has acknowledged."""

    def __init__(self, root, segment_bytes=16384, keep_bytes=65536, max_bytes=262144, reserve_bytes=16384):
        self.root = root
        self.segment_bytes = segment_bytes
        self.keep_bytes = keep_bytes  # acknowledged history kept for reprints and refunds
        self.max_bytes = max_bytes  # the journal's share of flash
        self.reserve_bytes = reserve_bytes  # kept free so a sale in flight can always close
        self.jid = ""
        self.next_seq = 1
        self.cursor = 0
        self.repaired = 0  # bytes cut off torn records at the last open
        self._segments = []  # [first_seq, last_seq, size] per segment, oldest first
        self._file = None
        self.readonly = False
        self.after_append = None  # test hook: called with each seq once it is on flash

    # -- opening and recovery ---------------------------------------------------------------------------

    def open(self, new_jid, readonly=False):
        """Recover the journal (creating it when missing); `new_jid()` gives the id for a new journal.

        `readonly` (for tools reading a live terminal's journal): change nothing on flash; torn tails are
        skipped instead of cut off.
        """
        self.readonly = readonly
        if readonly and not _exists(self.root):
            return self
        try:
            os.mkdir(self.root)
        except OSError:
            pass
        for name in os.listdir(self.root):
            if name.endswith(".tmp") and not readonly:  # a copy or cursor write a power cut interrupted
                os.remove(self.root + "/" + name)
        path = self.root + "/jid"
        if _exists(path):
            with open(path) as f:
                self.jid = f.read().strip()
        if len(self.jid) != 8 and not readonly:
            self.jid = new_jid()
            _write_atomic(path, self.jid)
        if _exists(self.root + "/cursor"):
            with open(self.root + "/cursor") as f:
                self.cursor = int(f.read().strip() or 0)
        names = sorted(n for n in os.listdir(self.root) if n.endswith(".log"))
        last = self.cursor
        for name in names:
            first, end, size = self._recover_segment(name)
            if end:
                last = max(last, end)
            self._segments.append([first, end, size])
        self.next_seq = last + 1
        return self

    def _recover_segment(self, name):
        path = self.root + "/" + name
        first = int(name[:-4])
        good = 0
        last = 0
        with open(path, "rb") as f:
            for seq, _payload, end in self._scan(f):
                good = end
                last = seq
            total = f.seek(0, 2)
        if good < total:
            self.repaired += total - good
            if not self.readonly:
                self._copy_prefix(path, good)
        return first, last, good

    def _copy_prefix(self, path, length):
        buf = bytearray(_COPY_CHUNK)
        with open(path, "rb") as src, open(path + ".tmp", "wb") as dst:
            left = length
            while left:
                n = src.readinto(memoryview(buf)[: min(left, _COPY_CHUNK)])
                if not n:
                    break
                dst.write(memoryview(buf)[:n])
                left -= n
        os.rename(path + ".tmp", path)

    def _scan(self, f, from_seq=0):
        """Yield (seq, payload, end offset) for each valid record of an open segment, stopping at a bad one."""
        head = bytearray(_HEAD)
        pos = 0
        while True:
            if f.readinto(head) != _HEAD or head[0] != _MAGIC:
                return
            length, seq = struct.unpack_from("<HI", head, 1)
            if seq < from_seq:
                f.seek(length + _TAIL, 1)
                pos += _HEAD + length + _TAIL
                continue
            payload = f.read(length)
            tail = f.read(_TAIL)
            if len(payload) != length or len(tail) != _TAIL:
                return
            crc = binascii.crc32(payload, binascii.crc32(memoryview(head)[3:]))
            if struct.unpack("<I", tail)[0] != crc & 0xFFFFFFFF:
                return
            pos += _HEAD + length + _TAIL
            yield seq, payload, pos

    # -- writing ----------------------------------------------------------------------------------------

    def unacked_bytes(self):
        return sum(s[2] for s in self._segments if s[1] > self.cursor or s[1] == 0)

    def has_room(self, for_sale=True):
        """Whether a new record fits; a new sale also needs the reserve left after it."""
        need = self.reserve_bytes if for_sale else 0
        return self.unacked_bytes() + need < self.max_bytes

    def append(self, payload):
        """Write one record with the next sequence number, flush it, and return that number."""
        if not self.has_room(for_sale=False):
            self._prune(force=True)
            if not self.has_room(for_sale=False):
                raise JournalFull()
        seq = self.next_seq
        size = _HEAD + len(payload) + _TAIL
        if not self._segments or self._segments[-1][2] + size > self.segment_bytes and self._segments[-1][2]:
            self._close_file()
            self._segments.append([seq, 0, 0])
        record = bytearray(size)
        struct.pack_into("<BHI", record, 0, _MAGIC, len(payload), seq)
        record[_HEAD : _HEAD + len(payload)] = payload
        crc = binascii.crc32(payload, binascii.crc32(memoryview(record)[3:_HEAD]))
        struct.pack_into("<I", record, _HEAD + len(payload), crc & 0xFFFFFFFF)
        f = self._file
        if f is None:
            f = self._file = open(self.root + "/" + _segment_name(self._segments[-1][0]), "ab")
        f.write(record)
        f.flush()
        segment = self._segments[-1]
        segment[1] = seq
        segment[2] += size
        self.next_seq = seq + 1
        if self.after_append is not None:
            self.after_append(seq)
        return seq

    def _close_file(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self):
        self._close_file()

    # -- reading and acknowledging ----------------------------------------------------------------------

    def records(self, from_seq=1):
        """Yield (seq, payload bytes) for every record with seq >= from_seq, oldest first."""
        for first, last, _size in list(self._segments):
            if last and last < from_seq:
                continue
            path = self.root + "/" + _segment_name(first)
            try:
                f = open(path, "rb")
            except OSError:
                continue  # pruned meanwhile
            with f:
                for seq, payload, _end in self._scan(f, from_seq):
                    yield seq, payload

    def acknowledge(self, seq):
        """Record that every record up to `seq` reached the broker; prune history beyond the keep budget."""
        if seq <= self.cursor:
            return
        self.cursor = seq
        _write_atomic(self.root + "/cursor", str(seq))
        self._prune()

    def _prune(self, force=False):
        keep = 0 if force else self.keep_bytes
        total = sum(s[2] for s in self._segments)
        while len(self._segments) > 1:
            first, last, size = self._segments[0]
            if last > self.cursor or total - size < keep:
                return
            os.remove(self.root + "/" + _segment_name(first))
            self._segments.pop(0)
            total -= size
