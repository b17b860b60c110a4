#!/usr/bin/env bash
# Set up if needed, then run the whole box (web, devices, sync) with a demo session.
# Extra options go to `phs up`, e.g. --host 0.0.0.0 --port 8080. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/phs up --demo "$@"
