#!/usr/bin/env bash
# Run every check: lint, format, types, then the whole test suite (CPython and real MicroPython).
# Extra arguments go to pytest. `./test.sh --fast` runs the quick lane instead: every test not marked
# slow (slow ones start services: brokers, fleet serve, the gateway, a browser), on both cores.
set -euo pipefail
fast=()
if [ "${1:-}" = "--fast" ]; then
  shift
  fast=(-m "not slow" -n 2)
fi
cd "$(dirname "$0")"
scripts/bootstrap.sh
scripts/system_packages.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy                                # fleet/ and protocol/, strict, against CPython
.venv/bin/mypy --config-file firmware/mypy.ini  # firmware/ (and protocol/) against MicroPython's stubs
exec .venv/bin/pytest ${fast[@]+"${fast[@]}"} "$@"
