"""Helpers shared by the end-to-end tests: real server replicas behind a real proxy."""

from __future__ import annotations

import os

import pytest


def requires(missing: str | None) -> pytest.MarkDecorator:
    """Skip when a real component is missing, except where scripts/test.sh (CI) installed
    everything: there a missing component is a failure, never a silent skip."""
    if missing is not None and os.environ.get("MCP_MIGRATE_REQUIRE_E2E"):
        raise RuntimeError(f"end-to-end tests cannot run: {missing}")
    return pytest.mark.skipif(missing is not None, reason=missing or "")


def need(missing: str | None) -> None:
    """Inside a test: the same rule as `requires`, for a component only this test uses."""
    if missing is None:
        return
    if os.environ.get("MCP_MIGRATE_REQUIRE_E2E"):
        pytest.fail(f"cannot run: {missing}")
    pytest.skip(missing)
