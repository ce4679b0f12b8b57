"""#16: the fleet keeps count of many connected terminals (tools.bench_connections, 500 here; the
10,000-terminal figures are in docs/benchmarks.md): a real Mosquitto, a real `fleet serve` on PostgreSQL
with its ingest workers, one MQTT connection per simulated terminal. The dashboard counts every one online,
and none once they all drop at once (their wills), well within the presence window."""

import pytest

from tools import bench_connections

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


def test_500_connected_terminals_counted_online_then_offline_after_a_mass_disconnect():
    figures = bench_connections.run(500, workers=2)
    assert figures["online_seen"] == 500, figures
    assert figures["online_after_kill"] == 0, figures
    assert figures["ok"], figures
