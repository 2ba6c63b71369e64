"""`--format sarif`: SARIF 2.1.0 as GitHub code scanning ingests it."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from .. import HOME, __version__
from ..fingerprint import fingerprints, repo_path
from ..model import FileResult, Finding, Rule, Severity
from ..rules import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning"}


def render(results: list[FileResult], findings: list[Finding]) -> str:
    rules = list(all_rules())
    index = {rule.code: i for i, rule in enumerate(rules)}
    errors = [e for r in results for e in r.errors]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mcp-migrate",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": HOME,
                "rules": [_rule(rule) for rule in rules],
            }
        },
        "results": [_result(f, fp, index[f.code]) for f, fp in zip(findings, fingerprints(findings), strict=True)],
        "invocations": [
            {
                "executionSuccessful": not any(not e.warning for e in errors),
                "toolExecutionNotifications": [
                    {
                        "level": "warning" if e.warning else "error",
                        "message": {"text": e.message},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path)}}}],
                    }
                    for e in errors
                ],
            }
        ],
        "columnKind": "unicodeCodePoints",
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": _pascal(rule.name),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _plain(section(rule.docs, "What it does") or rule.summary)},
        "help": {"text": _plain(rule.docs), "markdown": rule.docs.strip()},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["mcp", "stateless", rule.name], "precision": "high"},
    }


def _result(finding: Finding, fingerprint: str, rule_index: int) -> dict[str, Any]:
    span = finding.span
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path), "uriBaseId": "%SRCROOT%"},
                    "region": {
                        "startLine": span.line,
                        "startColumn": span.column,
                        "endLine": span.end_line,
                        "endColumn": span.end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {"mcpMigrateFinding/v1": fingerprint},
    }
    if finding.fix is not None:
        result["properties"] = {"fix": {"safety": finding.fix.safety.value, "description": finding.fix.description}}
    return result


def _uri(path: str) -> str:
    return quote(repo_path(path))


def section(docs: str, heading: str) -> str:
    """The body of one `## heading` section of a rule's docs."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", docs, re.S | re.M)
    return match.group(1).strip() if match else ""


def _plain(markdown: str) -> str:
    return re.sub(r"^## ", "", markdown.strip(), flags=re.M)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
