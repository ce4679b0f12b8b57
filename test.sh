#!/usr/bin/env bash
# Run every check: lint, format, types, then the whole test suite (CPython and real MicroPython).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
scripts/system_packages.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
