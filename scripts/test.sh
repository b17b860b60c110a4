#!/usr/bin/env bash
# Everything CI checks: set-up (with Chromium for the e2e tests), ruff, mypy --strict on
# appliance/, then pytest. Extra options go to pytest, e.g. `bash scripts/test.sh -k polls`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --with-browser

echo "==> ruff"
.venv/bin/ruff check .

echo "==> mypy --strict (appliance)"
.venv/bin/mypy -p appliance

echo "==> pytest"
status=0
.venv/bin/pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
  # Exit 5 means no test ran: a typo in -k or a broken collection must not pass CI.
  echo "LỖI / ERROR: không có bài kiểm thử nào chạy / no tests were collected" >&2
  exit 1
fi
exit "$status"
