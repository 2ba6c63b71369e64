"""The rule registry: every `mcpNNN_*` package below this one is a rule.

A rule package's `__init__` holds only its metadata (`RULE`), so listing rules, selecting them
and prefiltering files never imports a parser. The checker for a language is the package's
module of that language's name (`python.py`, ...), imported the first time a file needs it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from ..errors import UsageError
from ..model import Diagnostic, Rule

Checker = Callable[[Any], Iterable[Diagnostic]]

_RULE_PACKAGE = re.compile(r"^mcp\d{3}_\w+$")


@cache
def all_rules() -> tuple[Rule, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg and _RULE_PACKAGE.match(info.name):
            module = importlib.import_module(f"{__name__}.{info.name}")
            rule: Rule = module.RULE
            if not info.name.startswith(rule.code.lower()):
                raise RuntimeError(f"rule package {info.name} declares {rule.code}")
            found.append(rule)
    return tuple(sorted(found, key=lambda r: r.code))


@cache
def _package_of(code: str) -> str:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith(code.lower() + "_"):
            return f"{__name__}.{info.name}"
    raise KeyError(code)


@cache
def checker(code: str, language: str) -> Checker:
    module = importlib.import_module(f"{_package_of(code)}.{language}")
    check: Checker = module.check
    return check


def get_rule(code: str) -> Rule:
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    raise UsageError(f"unknown rule code {code!r} (see `mcp-migrate rules`)")


def select(select: Iterable[str] | None, ignore: Iterable[str]) -> list[Rule]:
    """Rules matching a selector (a code, a code prefix such as MCP1, or ALL) minus ignored ones."""
    rules = all_rules()
    chosen = [r for r in rules if matches_any(r.code, select)] if select else list(rules)
    ignore = list(ignore)
    return [r for r in chosen if not ignore or not matches_any(r.code, ignore)]


def matches_any(code: str, selectors: Iterable[str]) -> bool:
    return any(_matches(code, s) for s in selectors)


def _matches(code: str, selector: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate_selectors(selectors: Iterable[str], option: str) -> list[str]:
    """Upper-case selectors and reject ones that match no rule, naming the option."""
    cleaned = []
    codes = [r.code for r in all_rules()]
    for raw in selectors:
        selector = raw.strip().upper()
        if not selector:
            raise UsageError(f"{option}: an empty selector (a code such as MCP101, a prefix such as MCP1, or ALL)")
        if not any(_matches(code, selector) for code in codes):
            raise UsageError(f"{option}: {raw.strip()!r} matches no rule (see `mcp-migrate rules`)")
        cleaned.append(selector)
    return cleaned
