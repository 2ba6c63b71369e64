#!/usr/bin/env bash
# Install everything the test suite needs into .venv, then lint, type-check and test.
# Used by README.md ("Run the tests") and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e '.[test]'

# tests/e2e and tests/scaffold need a real nginx and redis-server (Debian's) and the Node
# toolchain locked in tests/e2e/node; tests/test_cli_help.py drives completion in real zsh and fish.
if { ! command -v nginx && [ ! -x /usr/sbin/nginx ]; } >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1 \
    || ! command -v zsh >/dev/null 2>&1 || ! command -v fish >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    export DEBIAN_FRONTEND=noninteractive
    packages="nginx redis-server zsh fish"
    { $sudo apt-get install -y -qq $packages || { $sudo apt-get update -qq && $sudo apt-get install -y -qq $packages; }; } \
        >/dev/null 2>&1 || { echo "error: could not install $packages (apt-get install them as root)" >&2; exit 1; }
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found: the end-to-end tests need Node.js and npm" >&2
    exit 1
fi
npm ci --prefix tests/e2e/node --no-audit --no-fund --loglevel=error
# The official conformance suite (pinned pre-release) and the Node.js 22 it needs, both from npm.
npm ci --prefix tests/conformance/node --no-audit --no-fund --loglevel=error
# Here the end-to-end tests must run: a missing component fails them instead of skipping them.
export MCP_MIGRATE_REQUIRE_E2E=1

ruff check src tests
ruff format --check src
mypy
python -m pytest -m "slow or not slow" "$@"
