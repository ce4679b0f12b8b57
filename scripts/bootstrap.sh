#!/usr/bin/env bash
# Make .venv and install the project with its dev extra and the firmware's MicroPython stubs; again only
# when pyproject.toml or the stubs' pin changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed ($PY)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml firmware/stubs.txt tools/micropython_typeshed.py | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing the project into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  # The firmware's type stubs live apart from the venv's site-packages: they shadow CPython's own modules.
  rm -rf .venv/micropython-stubs
  .venv/bin/python -m pip install -q --no-user --target .venv/micropython-stubs -r firmware/stubs.txt
  .venv/bin/python -m tools.micropython_typeshed .venv/micropython-stubs .venv/micropython-typeshed
  rm -f .venv/.installed-*
  touch "$stamp"
fi
