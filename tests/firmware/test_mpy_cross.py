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


def test_the_bundle_names_files_as_on_the_board_and_is_the_same_bytes_wherever_it_is_built(tmp_path):
    """The built bundle embedded each source's absolute path on the build machine ("/home/…/firmware/
    link.py") in its .mpy: tracebacks named the builder's disk, each path was interned in the terminal's
    heap, and two builds of one commit differed, so a release's hashes (#20) would depend on where it was
    built. Each file now carries its path on the board."""
    from tools import build_firmware

    first = build_firmware.build(tmp_path / "a" / "code")
    second = build_firmware.build(tmp_path / "elsewhere" / "deeper" / "code")
    files = sorted(p.relative_to(first) for p in first.rglob("*.mpy"))
    assert files and files == sorted(p.relative_to(second) for p in second.rglob("*.mpy"))
    for rel in files:
        data = (first / rel).read_bytes()
        assert data == (second / rel).read_bytes(), rel
        assert str(ROOT).encode() not in data, rel
        assert rel.with_suffix(".py").as_posix().encode() in data, rel
