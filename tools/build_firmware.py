"""Compile the firmware and the protocol package to .mpy, laid out as they go on a board's flash.

    python -m tools.build_firmware OUT_DIR

Every module becomes OUT_DIR/<path>.mpy (board/ and protocol/ as packages); main.py stays source, as a
board runs it. The unix port runs the result with MICROPYPATH=OUT_DIR (tools.terminal does that).
"""

import shutil
import subprocess
import sys
from pathlib import Path

from tools import binaries

ROOT = Path(__file__).resolve().parent.parent


def mpy_cross() -> str:
    return binaries.find("mpy-cross")


def sources() -> list[tuple[Path, Path]]:
    """(source file, path relative to the board's code root) for everything that goes on the board."""
    out = []
    for path in sorted((ROOT / "firmware").rglob("*.py")):
        out.append((path, path.relative_to(ROOT / "firmware")))
    for path in sorted((ROOT / "protocol").glob("*.py")):
        out.append((path, path.relative_to(ROOT)))
    return out


def build(out_dir: Path) -> Path:
    """Compile everything into `out_dir` (emptied first); return it."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    compiler = mpy_cross()
    for source, rel in sources():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel.name == "main.py":
            shutil.copy(source, target)
            continue
        # The name a traceback shows is the file's path on the board ("link.py", "protocol/codec.py"), not
        # where it was built: the bundle is the same bytes on every machine, and no long path of ours is
        # interned in the terminal's heap.
        out = str(target.with_suffix(".mpy"))
        subprocess.run([compiler, "-s", rel.as_posix(), "-o", out, str(source)], check=True)
    return out_dir


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/firmware")))
