#!/usr/bin/env bash
# Runs the whole suite: lint, then pytest, with the servers the tests need started here
# (PostgreSQL) and stopped on exit. SIP peers and the browser are started by the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
cleanup() { [ -x scripts/services/postgres.sh ] && scripts/services/postgres.sh stop || true; }
trap cleanup EXIT
if [ -x scripts/services/postgres.sh ]; then
  VERIBOT_TEST_PG_URL=$(scripts/services/postgres.sh start)
  export VERIBOT_TEST_PG_URL
fi
ruff check .
mkdir -p var/test-artifacts
# --durations: the 30 slowest tests named at the end of every run, so the suite's time (~30 min) is seen
python -m pytest -q -p no:cacheprovider --durations=30 "$@"  # -m: the repo root is on sys.path, as when developers run it
