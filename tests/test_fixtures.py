"""Snapshot fixtures: tests/fixtures/<CODE>/<case>/.

Each case holds
- `input.<ext>`: the code as a user wrote it;
- `findings.txt`: what `check` reports, one `line:column CODE` per line (empty: silent);
- `expected.<ext>`: the file after `fix` (absent: `fix` must leave it alone);
- `expected.unsafe.<ext>`: the file after `fix --unsafe-fixes` (absent: same as `expected`);
- optionally the project's pin files (`requirements.txt`, `pyproject.toml`, `uv.lock`, ...):
  the case runs in a folder of its own with them, so the SDK version a fix is written for is
  the one the case pins (and nothing above the case, such as this repository's pyproject).

Every fixed file must parse, and fixing it again must change nothing.
Set UPDATE_SNAPSHOTS=1 to rewrite the snapshots from the tool's output (then review the diff).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from mcp_migrate import engine
from mcp_migrate.discovery import discover
from mcp_migrate.lang import language_of, load
from mcp_migrate.rules import all_rules

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = bool(os.environ.get("UPDATE_SNAPSHOTS"))
ALL_CODES = tuple(r.code for r in all_rules())


def _cases() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("*/*/input.*"))


def _input(case: Path) -> Path:
    return next(case.glob("input.*"))


_SNAPSHOTS = ("findings.txt", "expected.", "input.")


def _workspace(case: Path, tmp_path: Path) -> Path:
    """A copy of the case's input beside its pin files, in a folder of its own; the input's path."""
    work = tmp_path / "project"
    work.mkdir()
    for item in case.iterdir():
        if item.is_file() and not item.name.startswith(_SNAPSHOTS):
            shutil.copyfile(item, work / item.name)
    source = _input(case)
    shutil.copyfile(source, work / source.name)
    return work / source.name


def _run(path: Path, mode: engine.Mode, unsafe: bool = False) -> engine.FileResult:
    [source] = discover([str(path)])
    return engine.process(source, engine.Job(ALL_CODES, mode, unsafe))


def _snapshot(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path} (run with UPDATE_SNAPSHOTS=1)"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs"


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_findings(case: Path, tmp_path: Path) -> None:
    result = _run(_workspace(case, tmp_path), engine.Mode.CHECK)
    assert not result.errors, result.errors
    actual = "".join(f"{f.span.line}:{f.span.column} {f.code}\n" for f in result.findings)
    _snapshot(case / "findings.txt", actual)
    if not UPDATE:  # each case is about its own rule: a negative (`ok_*`) must not show it, others must
        codes = {f.code for f in result.findings}
        if case.name.startswith("ok_") or "_ok_" in case.name:
            assert case.parent.name not in codes, f"negative case {case} reports {case.parent.name}"
        elif actual:
            assert case.parent.name in codes, f"{case} never reports {case.parent.name}"


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix(case: Path, unsafe: bool, tmp_path: Path) -> None:
    source = _input(case)
    work = _workspace(case, tmp_path)
    first = _run(work, engine.Mode.FIX, unsafe)
    assert not first.errors, first.errors
    fixed = work.read_text(encoding="utf-8")

    ext = source.suffix
    safe_snapshot = case / f"expected{ext}"
    unsafe_snapshot = case / f"expected.unsafe{ext}"
    if unsafe:
        baseline = safe_snapshot.read_text(encoding="utf-8") if safe_snapshot.exists() else source.read_text("utf-8")
        if fixed != baseline or unsafe_snapshot.exists():
            _snapshot(unsafe_snapshot, fixed)
    elif fixed != source.read_text(encoding="utf-8") or safe_snapshot.exists():
        _snapshot(safe_snapshot, fixed)

    language = language_of(source)
    assert language is not None
    load(language).parse(fixed, "\n", work)  # the fixed file parses
    if language == "yaml":
        _assert_surgical(source.read_text(encoding="utf-8"), fixed)
    second = _run(work, engine.Mode.FIX, unsafe)
    assert not second.errors and not second.diff, f"second fix changed {case}:\n{second.diff}"
    assert work.read_text(encoding="utf-8") == fixed


def test_every_rule_has_positive_and_negative_cases() -> None:
    for rule in all_rules():
        cases = sorted((FIXTURES / rule.code).glob("*/findings.txt"))
        positives = [c for c in cases if c.read_text()]
        negatives = [c for c in cases if not c.read_text()]
        assert positives, f"{rule.code} has no positive fixture"
        assert negatives, f"{rule.code} has no negative fixture"


# Keys a YAML fix may add, and the stateless values it may set in place (besides dropping
# pairs from a `k=v,k=v` list): the catalogue's SET fixes.
_ADDED_KEYS = ("haproxy.router.openshift.io/disable_cookies",)
_STATELESS_VALUES = {"None", "NONE", "none", "random", "roundrobin", "round-robin", "round_robin", "false"}


def _assert_surgical(before: str, after: str) -> None:
    """A YAML fix deletes lines, edits a value in place keeping its key, or adds an allowed
    key; and the result holds the same objects minus what was removed."""
    import difflib

    import yaml

    old, new = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("equal", "delete"):
            continue
        added = new[j1:j2]
        if tag == "insert":
            assert all(any(k in line for k in _ADDED_KEYS) or line.strip() == "annotations:" for line in added), added
            continue
        replaced = old[i1:i2]
        for line in added:
            if any(k in line for k in _ADDED_KEYS):
                continue
            key = line.split(":", 1)[0]
            assert any(r.split(":", 1)[0] == key for r in replaced), f"changed line {line!r} from {replaced!r}"
    for was, now in zip(yaml.safe_load_all(_masked(before)), yaml.safe_load_all(_masked(after)), strict=True):
        _assert_subset(now, was)


def _masked(text: str) -> str:
    from mcp_migrate.lang.yaml import mask_templates

    return mask_templates(text)


def _assert_subset(now: object, was: object) -> None:
    if isinstance(now, dict) and isinstance(was, dict):
        for key, value in now.items():
            if key in _ADDED_KEYS:
                continue
            if key == "annotations" and key not in was:  # created to hold an added key
                assert isinstance(value, dict) and set(value) <= set(_ADDED_KEYS), value
                continue
            assert key in was, f"fix added {key!r}"
            _assert_subset(value, was[key])
    elif isinstance(now, list) and isinstance(was, list):
        remaining = list(was)
        for item in now:  # list items may be removed, never invented
            match = next((w for w in remaining if _is_subset(item, w)), None)
            assert match is not None, f"fix invented list item {item!r}"
            remaining.remove(match)
    elif isinstance(now, str) and isinstance(was, str) and now != was:
        if _json(now) is not None and _json(was) is not None:  # JSON inside an annotation
            _assert_subset(_json(now), _json(was))
        elif now not in _STATELESS_VALUES:
            assert set(now.split(",")) <= set(was.split(",")), f"{now!r} is not a reduction of {was!r}"
    elif now is False and was is True:  # SET a switch off
        pass
    else:
        assert now == was, f"{now!r} != {was!r}"


def _is_subset(now: object, was: object) -> bool:
    try:
        _assert_subset(now, was)
    except AssertionError:
        return False
    return True


def _json(text: str) -> object:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None
