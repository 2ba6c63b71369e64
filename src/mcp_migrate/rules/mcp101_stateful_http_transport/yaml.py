"""MCP101 for Kubernetes YAML: environment switches that turn protocol sessions on.

Application-level switches are reported, not rewritten: only the application knows what its
variable does, and the same value may be read by other code.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lang.yaml import YamlFile, get, items, scalar
from ...model import Diagnostic
from ...sdk.workloads import pod_spec

CODE = "MCP101"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def check(file: YamlFile) -> Iterator[Diagnostic]:
    for obj in file.objects():
        if obj.suppressed(CODE):
            continue
        spec = pod_spec(obj)
        for field in ("initContainers", "containers"):
            for container in items(get(spec, field)):
                where = f"container {scalar(get(container, 'name')) or '?'!r} of {obj.label}"
                for variable in items(get(container, "env")):
                    name = scalar(get(variable, "name"))
                    value_node = get(variable, "value")
                    value = scalar(value_node)
                    if name is None or value is None or value_node is None or file.is_template_text(value_node):
                        continue
                    message = _switch(name, value, where)
                    if message is not None:
                        yield Diagnostic(CODE, file.span(variable), message)


def _switch(name: str, value: str, where: str) -> str | None:
    upper, written = name.upper(), value.strip().lower()
    if "STATEFUL" in upper and "STATEFULSET" not in upper and written in _TRUE:
        return (
            f"{where} sets `{name}={value}`: the server turns protocol sessions on and every client is pinned "
            "to the replica that minted its session; set it to false (environment switches are reported, "
            "not rewritten)"
        )
    if "STATELESS" in upper and written in _FALSE:
        return (
            f"{where} sets `{name}={value}`: the server keeps protocol sessions on and every client is pinned "
            "to the replica that minted its session; set it to true (environment switches are reported, "
            "not rewritten)"
        )
    return None
