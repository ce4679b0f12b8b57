"""QRIS payloads (rule Q1): parse and rebuild, never string-replace. Runs on CPython and MicroPython."""

import golden
from protocol import qris


def test_q1_crc16_ccitt_false_matches_the_standard_check_value():
    assert qris.crc16_ccitt_false(b"123456789") == 0x29B1
    assert qris.crc16_ccitt_false(b"") == 0xFFFF


def test_q1_static_payload_parses_into_tags():
    tags = qris.parse(golden.static_qris())
    assert tags["00"] == "01" and tags["01"] == qris.POI_STATIC
    assert tags["59"] == "TOKO MAJU JAYA" and tags["53"] == "360"
    assert "54" not in tags


def test_q1_dynamic_payload_sets_poi_inserts_amount_in_order_and_keeps_every_other_tag():
    static = golden.static_qris()
    dynamic = qris.to_dynamic(static, 27750)
    before = qris.fields(static)
    after = qris.fields(dynamic)
    assert qris.parse(dynamic)["01"] == qris.POI_DYNAMIC
    assert qris.amount(dynamic) == 27750
    order = [tag for tag, _ in after]
    assert order.index("54") == order.index("53") + 1 and order.index("55") == order.index("54") + 1
    kept = [pair for pair in after if pair[0] not in ("01", "54", "63")]
    assert kept == [pair for pair in before if pair[0] not in ("01", "63")]
    assert dict(after)["55"] == "02" and dict(after)["57"] == "0.70"  # tip/fee tags untouched
    assert after[-1][0] == "63" and after[-1][1] == "%04X" % qris.crc16_ccitt_false(dynamic[:-4].encode())


def test_q1_a_dynamic_payload_can_be_re_derived_with_a_new_amount():
    once = qris.to_dynamic(golden.static_qris(), 1000)
    twice = qris.to_dynamic(once, 2500)
    assert qris.amount(twice) == 2500
    assert [tag for tag, _ in qris.fields(twice)].count("54") == 1


def test_q1_amount_goes_last_when_no_tag_follows_it():
    static = qris.build([("00", "01"), ("01", "11"), ("53", "360")])
    dynamic = qris.to_dynamic(static, 5)
    assert [t for t, _ in qris.fields(dynamic)] == ["00", "01", "53", "54", "63"]


def test_q1_bad_crc_truncation_and_malformed_tlv_are_refused_with_a_message():
    good = golden.static_qris()
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    body_changed = good.replace("TOKO MAJU JAYA", "TOKO MAJU JAYB")
    for bad in (flipped, body_changed, good[:-6], good[:40], "0002010102", "XX02010102116304ABCD", "", good + "00"):
        e = golden.raises(ValueError, qris.parse, bad)
        assert str(e)
        golden.raises(ValueError, qris.to_dynamic, bad, 1000)


def test_q1_amount_must_be_a_positive_integer_of_rupiah():
    static = golden.static_qris()
    for bad in (0, -1, 1.5, "1000", True, None, 10**13):
        golden.raises(ValueError, qris.to_dynamic, static, bad)
    assert qris.amount(qris.to_dynamic(static, 10**13 - 1)) == 10**13 - 1
