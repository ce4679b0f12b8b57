"""The firmware journal's own rules, on CPython and on the real MicroPython (files in a temp directory)."""

import os
import sys

import golden

sys.path.insert(0, golden.ROOT + "/firmware")
from journal import Journal, JournalFull


def _tmpdir():
    path = "/tmp/journal-test-" + "".join("%02x" % b for b in os.urandom(6))
    os.mkdir(path)
    return path


def _rmtree(path):
    for name in os.listdir(path):
        full = path + "/" + name
        try:
            os.remove(full)
        except OSError:
            _rmtree(full)
    os.rmdir(path)


class TmpDir:
    """`with TmpDir() as root:` a fresh directory, removed afterwards (no contextlib on MicroPython)."""

    def __enter__(self):
        self.path = _tmpdir()
        return self.path

    def __exit__(self, *exc):
        _rmtree(self.path)
        return False


def _open(root, **kw):
    return Journal(root + "/j", **kw).open(lambda: "1234abcd")


def _payloads(j):
    return [(seq, bytes(p)) for seq, p in j.records()]


def _segments(root):
    return sorted(n for n in os.listdir(root + "/j") if n.endswith(".log"))


def test_records_come_back_in_order_across_segments_and_reopen():
    with TmpDir() as root:
        j = _open(root, segment_bytes=64)
        for i in range(1, 11):
            assert j.append(("record-%d" % i).encode()) == i
        j.close()
        assert len(_segments(root)) > 2
        j = _open(root, segment_bytes=64)
        assert _payloads(j) == [(i, ("record-%d" % i).encode()) for i in range(1, 11)]
        assert j.next_seq == 11 and j.jid == "1234abcd"
        j.close()


def test_a_torn_record_is_cut_off_and_the_next_append_is_readable():
    with TmpDir() as root:
        j = _open(root)
        for i in range(3):
            j.append(b"ok")
        j.close()
        with open(root + "/j/" + _segments(root)[-1], "ab") as f:
            f.write(b"\xa5\x10\x00\x04\x00\x00\x00half")  # header of a 16-byte record, then the power died
        j = _open(root)
        assert j.repaired == 11 and j.next_seq == 4
        assert j.append(b"after") == 4
        j.close()
        j = _open(root)
        assert _payloads(j) == [(1, b"ok"), (2, b"ok"), (3, b"ok"), (4, b"after")] and j.repaired == 0
        j.close()


def test_a_record_with_a_bad_crc_ends_the_valid_journal():
    with TmpDir() as root:
        j = _open(root)
        j.append(b"first")
        j.append(b"second")
        j.close()
        path = root + "/j/" + _segments(root)[-1]
        with open(path, "rb") as f:
            data = bytearray(f.read())
        data[-6] ^= 0xFF  # flip a byte inside the last payload
        with open(path, "wb") as f:
            f.write(data)
        j = _open(root)
        assert _payloads(j) == [(1, b"first")]
        assert j.append(b"again") == 2
        j.close()


def test_sequence_numbers_continue_after_everything_is_acknowledged_and_pruned():
    with TmpDir() as root:
        j = _open(root, segment_bytes=40, keep_bytes=0)
        for _ in range(12):
            j.append(b"0123456789")
        j.acknowledge(12)
        j.close()
        assert len(_segments(root)) == 1  # the newest segment always stays
        j = _open(root, segment_bytes=40, keep_bytes=0)
        assert j.cursor == 12 and j.next_seq == 13
        j.close()


def test_a_full_journal_refuses_new_sales_keeps_room_to_close_one_and_frees_space_once_acknowledged():
    with TmpDir() as root:
        j = _open(root, segment_bytes=100, keep_bytes=0, max_bytes=400, reserve_bytes=150)
        while j.has_room():
            j.append(b"x" * 40)
        assert not j.has_room() and j.has_room(for_sale=False)  # no new sale; the open one can close
        j.append(b"closing the sale in flight")
        golden.raises(JournalFull, lambda: [j.append(b"y" * 40) for _ in range(10)])
        j.acknowledge(j.next_seq - 1)
        assert j.has_room()
        j.close()


def test_open_removes_interrupted_temporary_files_and_readonly_open_changes_nothing():
    with TmpDir() as root:
        j = _open(root)
        j.append(b"a")
        j.close()
        with open(root + "/j/cursor.tmp", "w") as f:
            f.write("9")
        with open(root + "/j/" + _segments(root)[0], "ab") as f:
            f.write(b"\xa5")
        ro = Journal(root + "/j").open(lambda: "ffffffff", readonly=True)
        assert ro.repaired == 1 and "cursor.tmp" in os.listdir(root + "/j")
        j = _open(root)
        assert j.cursor == 0 and "cursor.tmp" not in os.listdir(root + "/j") and j.repaired == 1
        j.close()
