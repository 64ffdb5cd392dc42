#!/usr/bin/env bash
# Install jalon in .venv and run the demo end to end: a synthetic company is
# generated, loaded, analysed, and its report written to jalon-demo/.
# The language follows --lang (first argument), JALON_LANG, then the locale.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
lang=${1:-${JALON_LANG:-en}}
.venv/bin/jalon demo --out jalon-demo --lang "$lang"
