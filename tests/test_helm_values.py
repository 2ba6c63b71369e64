"""MCP306 on values files: `sessionAffinity: ClientIP` becomes `None`.

This case lives outside the snapshot fixtures because their surgical check only accepts string
values that shrink as comma lists (see tests/test_fixtures.py `_assert_subset`), not a SET.
"""

from __future__ import annotations

from pathlib import Path

from mcp_migrate import engine
from mcp_migrate.discovery import SourcePath
from mcp_migrate.lang.yaml import YamlFile

VALUES = """\
# Default values for mcp-gateway.
service:
  type: ClusterIP
  sessionAffinity: ClientIP  # pinned while sessions lived in memory
  sessionAffinityConfig:
    clientIP:
      timeoutSeconds: 10800
  port: 80
ingress:
  host: "{{ .Release.Name }}.example.com"
"""


def _fix(tmp_path: Path, text: str) -> tuple[engine.FileResult, str]:
    path = tmp_path / "values.yaml"
    path.write_text(text)
    result = engine.process(SourcePath(str(path), "values.yaml", "yaml"), engine.Job(("MCP306",), engine.Mode.FIX))
    return result, path.read_text()


def test_client_ip_becomes_none_and_its_config_goes(tmp_path: Path) -> None:
    result, fixed = _fix(tmp_path, VALUES)
    assert not result.errors and result.fixed == 1
    assert fixed == VALUES.replace("sessionAffinity: ClientIP", "sessionAffinity: None").replace(
        "  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 10800\n", ""
    )
    YamlFile(fixed)  # parses
    again, same = _fix(tmp_path, fixed)
    assert not again.errors and not again.diff and same == fixed


def test_quoted_client_ip_keeps_its_quotes(tmp_path: Path) -> None:
    _, fixed = _fix(tmp_path, 'service:\n  sessionAffinity: "ClientIP"\n')
    assert fixed == 'service:\n  sessionAffinity: "None"\n'


def test_kubernetes_objects_and_templates_are_not_values(tmp_path: Path) -> None:
    for text in (
        "apiVersion: v1\nkind: Service\nspec:\n  sessionAffinity: ClientIP\n",
        "service:\n  sessionAffinity: ClientIP\n---\nother: 1\n",
        "service:\n{{- if .Values.x }}\n  sessionAffinity: ClientIP\n{{- end }}\n",
    ):
        result, fixed = _fix(tmp_path, text)
        assert not result.errors and fixed == text, text
