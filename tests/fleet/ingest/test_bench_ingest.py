"""tools.bench_ingest runs end to end (small numbers) and reports nothing lost or duplicated.

Its speed figures are for reading, not asserting here (see the module)."""

import pytest

from tools import bench_ingest

pytestmark = pytest.mark.slow  # starts services or processes (see docs/testing.md)


def test_bench_ingest_runs_and_loses_nothing(capsys):
    assert bench_ingest.main(["--messages", "2000", "--terminals", "20", "--workers", "1,2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines if line.startswith("workers=")] == ["workers=1", "workers=2"]
    result = lines[-1]
    assert result.startswith("RESULT raw_msgs_per_s=")
    figures = dict(part.split("=") for part in result.split()[1:])
    assert figures["lost"] == "0" and figures["duplicated"] == "0"
    for figure in ("raw_msgs_per_s", "broker_msgs_per_s", "ingest_msgs_per_s"):
        assert float(figures[figure]) > 0, figure
