#!/usr/bin/env bash
# Run the product: the fleet demo (see README). Extra arguments go to `fleet demo`.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
exec .venv/bin/fleet demo "$@"
