"""Lay MicroPython's stubs out as a typeshed, so mypy checks the firmware against MicroPython, not CPython.

`micropython-*-stubs` ship `time.pyi`, `json/`, `asyncio/` and the rest as top-level stubs beside a reduced
copy of typeshed's `stdlib/`. mypy takes the standard library from its typeshed and nowhere else (a stub
named `time` on its path "shadows library module"), so the port's modules are moved into `stdlib/` and
listed in its VERSIONS: `mypy --custom-typeshed-dir <out>` then sees `time.ticks_ms`, `machine.Pin`,
`micropython.const` as the board has them.

    python -m tools.micropython_typeshed <installed stubs dir> <out dir>
"""

import shutil
import sys
from pathlib import Path

SKIP = {"stdlib", "stubs", "__pycache__"}


def build(stubs: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(stubs / "stdlib", out / "stdlib")
    shutil.copytree(stubs / "stubs", out / "stubs")  # mypy_extensions, which mypy needs in any typeshed
    versions = out / "stdlib" / "VERSIONS"
    listed = {line.split(":")[0].strip() for line in versions.read_text().splitlines() if ":" in line}
    added: list[str] = []
    for entry in sorted(stubs.iterdir()):
        if entry.name in SKIP or entry.name.endswith((".dist-info", ".md", ".toml")):
            continue
        if entry.is_dir():
            name = entry.name
            shutil.copytree(entry, out / "stdlib" / name, dirs_exist_ok=True)
        elif entry.suffix == ".pyi":
            name = entry.stem
            shutil.copy2(entry, out / "stdlib" / entry.name)
        else:
            continue
        if name not in listed:
            added.append(f"{name}: 3.0-")
    with versions.open("a") as f:
        f.write("\n# MicroPython's own modules (tools.micropython_typeshed)\n" + "\n".join(added) + "\n")


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
