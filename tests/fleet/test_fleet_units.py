"""Pure parts of the fleet: password hashes in Mosquitto's own format, telemetry downsampling, tokens."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

from fleet.auth import passwords, tokens
from fleet.ingest import downsample


def test_our_hashes_and_mosquitto_passwd_read_each_other(tmp_path):
    path = tmp_path / "passwd"
    subprocess.run(
        [shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b", "-c", str(path), "TKM-1", "s3cret-pw"],
        check=True,
    )
    theirs = path.read_text().strip().split(":", 1)[1]
    assert passwords.verify_password("s3cret-pw", theirs)
    assert not passwords.verify_password("s3cret-pX", theirs)
    ours = passwords.hash_password("s3cret-pw", passwords.DEVICE_ITERATIONS)
    assert ours.startswith("$7$1000$") and passwords.verify_password("s3cret-pw", ours)
    for broken in ("", "$7$", "$6$1$a$b", "$7$x$AAAA$AAAA", "$7$10$!!$??", ours[:-4]):
        assert not passwords.verify_password("s3cret-pw", broken)


def test_tokens_expire_and_cannot_be_forged():
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    key, other = "k" * 32, "o" * 32
    token = tokens.issue(key, "support", now)
    assert tokens.subject(key, token, now) == "support"
    assert tokens.subject(key, token, now + tokens.LIFETIME - timedelta(seconds=1)) == "support"
    assert tokens.subject(key, token, now + tokens.LIFETIME) is None  # expired
    assert tokens.subject(other, token, now) is None  # signed with another key
    assert tokens.subject(key, "garbage", now) is None
    header, claims, _sig = token.split(".")
    assert tokens.subject(key, f"{header}.{claims}.", now) is None  # signature stripped


def test_downsampling_means_gauges_keeps_counter_maxima_and_skips_empty_buckets():
    since = datetime(2026, 11, 20, tzinfo=UTC)
    until = since + timedelta(hours=1)
    width = downsample.bucket_width(since, until, 6)
    assert width == timedelta(minutes=10)
    samples = [
        (since + timedelta(minutes=1), {"battery_pct": 90, "printed_mm": 100, "paper": "ok", "mem_free": None}),
        (since + timedelta(minutes=9), {"battery_pct": 81, "printed_mm": 140, "paper": "low", "mem_free": 4000}),
        (since + timedelta(minutes=45), {"battery_pct": 70, "printed_mm": 300, "paper": "out", "mem_free": 3000}),
    ]
    points = downsample.downsample(samples, since, width)
    assert [p["t"] for p in points] == [since, since + timedelta(minutes=40)]
    assert points[0]["battery_pct"] == 85.5 and points[0]["printed_mm"] == 140 and points[0]["paper"] == "low"
    assert points[0]["mem_free"] == 4000 and points[0]["samples"] == 2
    assert downsample.bucket_width(since, since + timedelta(seconds=3), 1000) == timedelta(seconds=1)
