"""Every firmware and protocol file compiles with mpy-cross, the way a board's build does."""

import subprocess

import pytest

from tests.paths import ROOT

SOURCES = sorted(p for d in ("firmware", "protocol") for p in (ROOT / d).rglob("*.py"))


def test_there_is_code_to_compile():
    assert any(p.parts[-2] == "protocol" for p in SOURCES)


@pytest.mark.parametrize("source", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_compiles_with_mpy_cross(source, mpy_cross, tmp_path):
    out = tmp_path / (source.stem + ".mpy")
    proc = subprocess.run([mpy_cross, "-o", str(out), str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
