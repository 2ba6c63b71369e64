#!/usr/bin/env bash
# Install everything the test suite needs into .venv, then lint, type-check and test.
# Used by README.md ("Run the tests") and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e '.[test]'

ruff check src tests
ruff format --check src
mypy
python -m pytest -m "slow or not slow" "$@"
