#!/usr/bin/env bash
# Install jalon with its test dependencies (and Chromium for the dashboard
# tests, from Debian's packages, when running as root) and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh test,spark
scripts/install-browser.sh || echo "Chromium could not be installed: browser tests will be skipped." >&2
exec .venv/bin/python -m pytest "$@"
