"""YAML splicing: fixes delete exactly the lines of the removed keys and nothing else.

A property test generates Service manifests with comments, random extra keys, quoting styles,
indentation widths and several documents, fixes them, and checks the result is the input minus
precisely the lines that hold the sticky keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Run, write
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_migrate import engine
from mcp_migrate.discovery import SourcePath
from mcp_migrate.lang.yaml import YamlFile, mask_templates

KEEP, DROP = True, False
_SCALARS = st.sampled_from(["web", '"quoted # not a comment"', "'single'", "8080", "true", "{a: 1}", "[x, y]"])
_COMMENTS = st.sampled_from(["", "  # note", "  # sessionAffinity: ClientIP"])


@st.composite
def services(draw: st.DrawFn) -> tuple[str, str]:
    """(manifest, the same manifest without the sticky lines)."""
    step = draw(st.sampled_from([2, 4]))
    lines: list[tuple[str, bool]] = []
    for doc in range(draw(st.integers(min_value=1, max_value=3))):
        if doc:
            lines.append(("---", KEEP))
        if draw(st.booleans()):
            lines.append(("# a Service for the MCP gateway", KEEP))
        lines += [("apiVersion: v1", KEEP), ("kind: Service", KEEP), ("metadata:", KEEP)]
        lines.append((f"{' ' * step}name: svc-{doc}{draw(_COMMENTS)}", KEEP))
        lines.append(("spec:", KEEP))
        spec: list[list[tuple[str, bool]]] = []
        for i in range(draw(st.integers(min_value=1, max_value=4))):
            spec.append([(f"{' ' * step}extra{i}: {draw(_SCALARS)}{draw(_COMMENTS)}", KEEP)])
        if draw(st.booleans()):
            spec.append([(f"{' ' * step}ports:", KEEP), (f"{' ' * step}- port: 80{draw(_COMMENTS)}", KEEP)])
        sticky = draw(st.booleans())
        if sticky:
            value = draw(st.sampled_from(["ClientIP", '"ClientIP"']))
            line = f"{' ' * step}sessionAffinity: {value}{draw(_COMMENTS)}"
            spec.insert(draw(st.integers(min_value=0, max_value=len(spec))), [(line, DROP)])
            if draw(st.booleans()):
                block = [
                    (f"{' ' * step}sessionAffinityConfig:", DROP),
                    (f"{' ' * step * 2}clientIP:{draw(_COMMENTS)}", DROP),
                    (f"{' ' * step * 3}timeoutSeconds: 10800{draw(_COMMENTS)}", DROP),
                ]
                spec.insert(draw(st.integers(min_value=0, max_value=len(spec))), block)
        if draw(st.booleans()):
            spec.insert(0, [(f"{' ' * step}# standalone comment", KEEP)])
        lines += [line for group in spec for line in group]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    before = newline.join(text for text, _ in lines) + newline
    after = newline.join(text for text, keep in lines if keep) + newline
    return before, after


@settings(max_examples=100, deadline=None)
@given(services())
def test_fix_removes_exactly_the_sticky_lines(tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]) -> None:
    before, after = case
    path = tmp_path_factory.mktemp("yaml") / "service.yaml"
    path.write_bytes(before.encode())
    result = engine.process(SourcePath(str(path), "service.yaml", "yaml"), engine.Job(("MCP301",), engine.Mode.FIX))
    assert not result.errors, result.errors
    assert path.read_bytes().decode() == after


def test_mask_templates_keeps_every_offset() -> None:
    text = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"
        '  labels: {{- include "x.labels" . | nindent 4 }}\nspec:\n'
        "{{- if .Values.sticky }}\n  sessionAffinity: {{ .Values.service.sessionAffinity }}\n{{- end }}\n"
        '  type: "{{ .Values.type }}"\n'
    )
    masked = mask_templates(text)
    assert len(masked) == len(text)
    assert [i for i, c in enumerate(text) if c == "\n"] == [i for i, c in enumerate(masked) if c == "\n"]
    file = YamlFile(text)
    assert file.template and [o.kind for o in file.objects()] == ["Service"]
    assert 7 not in file.comments  # a masked template line is not a user comment


def test_comments_are_found_between_tokens_only() -> None:
    file = YamlFile('a: "x # y"  # real\nb: plain#text\n# own line\nc: |\n  # inside a block scalar\n')
    assert file.comments == {1: (12, "# real"), 3: (0, "# own line")}


def test_non_kubernetes_yaml_that_does_not_parse_is_left_alone(run: Run, workdir: Path) -> None:
    write("compose.yaml", "services:\n  web: [sticky\n")
    code, out, _ = run("check", ".")
    assert code == 0 and "All checks passed!" in out


def test_kubernetes_yaml_that_does_not_parse_is_reported(run: Run, workdir: Path) -> None:
    write("svc.yaml", "apiVersion: v1\nkind: Service\nspec:\n  sessionAffinity: [ClientIP\n")
    code, out, _ = run("check", ".")
    assert code == 1 and "svc.yaml: error: cannot parse: invalid YAML" in out


def test_comment_suppression_and_annotation_suppression(run: Run, workdir: Path) -> None:
    write(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n"
        "  sessionAffinity: ClientIP  # mcp-migrate: ignore[MCP301]\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  annotations:\n"
        '    ignore-check.mcp-migrate.io/MCP301: "kept until the gateway moves"\nspec:\n  sessionAffinity: ClientIP\n',
    )
    code, out, _ = run("check", "--select", "MCP301", ".")
    assert code == 0, out


def test_yaml_bom_and_crlf_survive_a_fix(run: Run, workdir: Path) -> None:
    body = "apiVersion: v1\r\nkind: Service\r\nspec:\r\n  sessionAffinity: ClientIP\r\n  type: ClusterIP\r\n"
    path = write("svc.yaml", b"\xef\xbb\xbf" + body.encode())
    assert run("fix", ".")[0] == 1
    assert path.read_bytes() == b"\xef\xbb\xbf" + body.replace("  sessionAffinity: ClientIP\r\n", "").encode()
