"""MCP306 for Helm charts: templates that emit stickiness from values, and the values that do.

Templates are reported at the template line and never rewritten. A values file (one YAML
mapping, not a Kubernetes object) has its sticky literals fixed in place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ...lang.yaml import Entry, KubeObject, YamlFile, compose_one, entries, entry, get, scalar
from ...model import Diagnostic, Edit, Fix, FixSafety, Span
from ...sdk import helm
from ...sdk.kubernetes import is_aws_tg_attributes, sticky_pairs
from ._sticky import STICKY_KEYS, is_companion, is_sticky_annotation, is_trigger

CODE = "MCP306"
_ACTION = re.compile(r"\{\{(?P<body>.*?)\}\}", re.S)
_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)+)")
_STICKY_NAME = re.compile(r"sticky|stickiness|affinity|session|persist|consistenthash|hash-?by|hashon|cookie", re.I)
_TO_YAML = re.compile(r"\btoYaml\s+\(?\s*(?P<arg>\$?[\w.]*)")
_ROUTING_KINDS = frozenset({"Ingress", "Service", "Route"})
_OPENERS = frozenset({"if", "with", "range", "define", "block"})
# Keys whose value, when a template fills it from values, decides session routing.
_TEMPLATED_KEYS = frozenset({"sessionAffinity", "consistentHash", "sessionPersistence"})


@dataclass(frozen=True)
class Action:
    """One `{{ ... }}`, with its words (trim markers and blanks removed)."""

    start: int
    end: int
    body: str

    @property
    def words(self) -> list[str]:
        return self.body.split()


@dataclass(frozen=True)
class Block:
    """`{{ if|with|range ... }}` up to its `{{ end }}`."""

    kind: str
    opener: Action
    body_start: int
    body_end: int

    def contains(self, offset: int) -> bool:
        return self.body_start <= offset < self.body_end


def check(file: YamlFile) -> Iterator[Diagnostic]:
    if file.template:
        yield from _templates(file)
    if _is_values(file):
        yield from _values(file, file.documents[0])


# -- templates ------------------------------------------------------------------------------------
def _actions(text: str) -> list[Action]:
    found = []
    for match in _ACTION.finditer(text):
        body = match.group("body").strip()
        body = body.removeprefix("-").removesuffix("-").strip()
        if not body.startswith("/*"):
            found.append(Action(match.start(), match.end(), body))
    return found


def _blocks(actions: list[Action]) -> list[Block]:
    """Control blocks in the order they open (an outer block before the blocks inside it)."""
    opened: list[Action] = []
    blocks = []
    for action in actions:
        words = action.words
        if not words:
            continue
        if words[0] in _OPENERS:
            opened.append(action)
        elif words[0] == "end" and opened:
            opener = opened.pop()
            blocks.append(Block(opener.words[0], opener, opener.end, action.start))
    return sorted(blocks, key=lambda b: b.body_start)


def _templates(file: YamlFile) -> Iterator[Diagnostic]:
    actions = _actions(file.text)
    blocks = _blocks(actions)
    reported: list[Block] = []
    knobs: set[str] = set()  # values paths already reported: one finding per knob
    for obj in file.objects():
        if obj.suppressed(CODE):
            continue
        found = list(_walk(obj.node))
        for block in blocks:
            if block.kind not in ("if", "with") or any(b is block or b.contains(block.body_start) for b in reported):
                continue
            paths = [p for p in _values_paths(block.opener.body) if _STICKY_NAME.search(p)]
            wrapped = [e for e in found if block.contains(e.key.start_mark.index) and _is_sticky(file, e)]
            if not paths or not wrapped:
                continue
            reported.append(block)  # what it wraps is this knob's, set or not
            sticky, where = _set_in_values(file, paths[0], helm.truthy)
            if not sticky or paths[0] in knobs:
                continue
            knobs.add(paths[0])
            keys = ", ".join(dict.fromkeys(f"`{e.key.value}`" for e in wrapped))
            message = (
                f"{_label(file, obj)} emits sticky routing ({keys}) when `{paths[0]}` is set in values{where}: "
                "turn it off there (the template is reported, never rewritten)"
            )
            yield Diagnostic(CODE, _span(file, block.opener), message)

        def inside_reported(offset: int) -> bool:
            return any(b.contains(offset) for b in reported)

        for item in found:
            key = item.key.value
            if key not in _TEMPLATED_KEYS and not _templated_annotation(key):
                continue
            if inside_reported(item.key.start_mark.index):
                continue
            action = _value_actions(file, actions, item)
            if not action:
                continue
            source = _values_paths(action[0].body)
            origin = f"`{source[0]}`" if source else "a template expression"
            where = ""
            if source:
                sticky, where = _set_in_values(file, source[0], partial(_sticky_value, key), _client_ip_value)
                if not sticky or source[0] in knobs:
                    continue
                knobs.add(source[0])
            message = (
                f"{_label(file, obj)} renders `{key}` from {origin}{where}: a sticky value there pins clients to one "
                "pod; turn it off there (the template is reported, never rewritten)"
            )
            yield Diagnostic(CODE, file.span(item.key, item.value), message)
        yield from _annotation_passthrough(file, obj, actions, blocks, inside_reported, knobs)


def _annotation_passthrough(
    file: YamlFile,
    obj: KubeObject,
    actions: list[Action],
    blocks: list[Block],
    inside_reported: Callable[[int], bool],
    knobs: set[str],
) -> Iterator[Diagnostic]:
    """`annotations: {{- toYaml .Values.ingress.annotations | nindent 4 }}` on an Ingress,
    Service or Route: whatever sticky annotation the values hold ends up on the object."""
    if obj.kind not in _ROUTING_KINDS:
        return
    annotations = entry(get(obj.node, "metadata"), "annotations")
    if annotations is None:
        return
    for action in _value_actions(file, actions, annotations):
        if inside_reported(action.start):
            continue
        path = _passed_through(action, actions, blocks)
        if path is None or "annotations" not in path.lower() or path in knobs:
            continue
        sticky, where = _set_in_values(file, path, _holds_sticky_annotation, _holds_sticky_annotation)
        if not sticky:
            continue
        knobs.add(path)
        message = (
            f"{_label(file, obj)} takes its annotations from `{path}`{where}: sticky annotations set there "
            "(affinity cookies, upstream-hash-by, target-group stickiness) pin clients; "
            "keep them out of the values"
        )
        yield Diagnostic(CODE, _span(file, action), message)


def _passed_through(action: Action, actions: list[Action], blocks: list[Block]) -> str | None:
    """The `.Values` path a `toYaml` (or `range`) action renders, following `.` and `$x`."""
    words = action.words
    if words and words[0] == "range":
        paths = _values_paths(action.body)
        return paths[0] if paths else None
    match = _TO_YAML.search(action.body)
    if match is None:
        return None
    argument = match.group("arg")
    if argument == ".":
        enclosing = [b for b in blocks if b.kind in ("with", "range") and b.contains(action.start)]
        if not enclosing:
            return None
        paths = _values_paths(enclosing[-1].opener.body)
    elif argument.startswith("$") and not argument.startswith("$."):
        name = re.escape(argument.split(".", 1)[0])
        assigned = [a for a in actions if a.start < action.start and re.search(name + r"\s*:?=", a.body)]
        paths = _values_paths(assigned[-1].body) if assigned else []
    else:
        paths = _values_paths(argument)
    return paths[0] if paths else None


def _set_in_values(
    file: YamlFile, path: str, sticky: Callable[[Node], bool], reported_there: Callable[[Node], bool] | None = None
) -> tuple[bool, str]:
    """Whether the template is to be reported for the knob `path`, and a note saying why.

    Only when a values file of its chart (or an overlay beside it) sets something sticky
    there: `helm create`'s `annotations: {}` passes nothing sticky through. And once per knob:
    a sticky value this rule already reports in the values file itself (`reported_there`: an
    affinity annotation, `sessionAffinity: ClientIP`, fixed there) is not reported again where
    it lands. A template with no `Chart.yaml` above it cannot be judged by its values: it is
    reported, and the note says so."""
    root = helm.chart_root(file.path)
    if root is None:
        return True, " (no Chart.yaml above the template, so no values to check)"
    file.dependencies.update(helm.values_files(root))
    hits = [v for v in helm.values_at(root, path.removeprefix(".Values.")) if sticky(v.node)]
    if reported_there is not None:
        hits = [v for v in hits if not reported_there(v.node)]
    if not hits:
        return False, ""
    shown = os.path.relpath(hits[0].file, root)
    return True, f" ({shown} line {hits[0].line} makes it sticky)"


def _sticky_value(key: str, node: Node) -> bool:
    """A value that makes a templated `key` sticky: `ClientIP` for `sessionAffinity`, anything
    set for the other sticky keys and annotations."""
    value = scalar(node)
    if key == "sessionAffinity":
        return value == "ClientIP"
    return helm.truthy(node) and (value is None or is_sticky_annotation(key, value) or key in _TEMPLATED_KEYS)


def _client_ip_value(node: Node) -> bool:
    return scalar(node) == "ClientIP"


def _holds_sticky_annotation(node: Node) -> bool:
    return isinstance(node, MappingNode) and any(
        scalar(value) is not None and is_trigger(key.value, scalar(value)) for key, value in node.value
    )


def _label(file: YamlFile, obj: KubeObject) -> str:
    """`Kind 'name'`, a templated name as written (not as masked for the parser)."""
    name = get(obj.node, "metadata", "name")
    if name is not None and file.is_template_text(name):
        return f"{obj.kind} {file.text[name.start_mark.index : file.content_end(name)]!r}"
    return obj.label


def _templated_annotation(key: str) -> bool:
    return is_trigger(key, None) and not is_aws_tg_attributes(key)


def _is_sticky(file: YamlFile, item: Entry) -> bool:
    key = item.key.value
    value = scalar(item.value)
    if key == "sessionAffinity":
        return file.is_template_text(item.value) or value not in (None, "", "None")
    if key in STICKY_KEYS:
        return True
    return is_sticky_annotation(key, None if file.is_template_text(item.value) else value)


def _value_actions(file: YamlFile, actions: list[Action], item: Entry) -> list[Action]:
    """Template actions that make up an entry's value: inline, or (for a value that starts on
    the next line) on the lines indented under the key, template-only lines included."""
    start = item.key.end_mark.index
    key_line, key_column = file.lines.position(item.key.start_mark.index)
    end = file.content_end(item.value)
    value_line, _ = file.lines.position(item.value.start_mark.index)
    inline = value_line == key_line and bool(file.text[item.value.start_mark.index : end].strip())
    if not inline:
        for number in range(key_line + 1, len(file.lines.starts) + 1):
            text = file.lines.line_text(number)
            if text.strip() and len(text) - len(text.lstrip(" \t")) <= key_column:
                break
            end = max(end, file.lines.starts[number - 1] + len(text))
    return [a for a in actions if start <= a.start < end and _renders(a)]


def _renders(action: Action) -> bool:
    """Produces text (not control flow: `if`, `end`, ... only choose what else renders)."""
    words = action.words
    return (
        bool(words)
        and words[0] not in ("if", "else", "end", "with", "define", "block")
        and (".Values" in action.body or "toYaml" in action.body or "include" in action.body or words[0] == "range")
    )


def _values_paths(text: str) -> list[str]:
    return [".Values" + m.group(1) for m in _VALUES_PATH.finditer(text)]


def _span(file: YamlFile, action: Action) -> Span:
    line, column = file.lines.position(action.start)
    end_line, end_column = file.lines.position(action.end)
    return Span(line, column + 1, end_line, end_column + 1)


def _walk(node: Node, seen: set[int] | None = None) -> Iterator[Entry]:
    """Every entry once: a node an alias repeats is walked where its anchor is."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for item in entries(node):
            yield item
            yield from _walk(item.value, seen)
    elif isinstance(node, SequenceNode):
        for child in node.value:
            yield from _walk(child, seen)


# -- values files ---------------------------------------------------------------------------------
def _is_values(file: YamlFile) -> bool:
    """One YAML mapping that is not a Kubernetes object and is YAML as written (not a template)."""
    if len(file.documents) != 1 or not isinstance(file.documents[0], MappingNode):
        return False
    if entry(file.documents[0], "apiVersion") or entry(file.documents[0], "kind"):
        return False
    # `{{` inside quoted strings (tpl values) is fine; template lines are not
    return not file.template or compose_one(file.text) is not None


def _values(file: YamlFile, document: Node) -> Iterator[Diagnostic]:
    for item in _walk(document):
        if item.key.value == "sessionAffinity" and scalar(item.value) == "ClientIP":
            yield _client_ip(file, item)
    for mapping in _mappings(document):
        found = _sticky_annotations(file, mapping)
        if found is not None:
            yield found


def _client_ip(file: YamlFile, item: Entry) -> Diagnostic:
    assert isinstance(item.value, ScalarNode)
    edits = [file.replace_scalar(item.value, "None")]
    description = "Set `sessionAffinity: None`"
    config = entry(item.mapping, "sessionAffinityConfig")
    if config is not None:  # the API server rejects it next to `None`
        edits.extend(file.remove([config]))
        description += " and remove `sessionAffinityConfig`"
    message = (
        f"values set `{_path(file, item.value)}: ClientIP`: the chart's Service pins every client to one pod; "
        "the template renders the value verbatim, so it becomes `None`"
    )
    if file.is_shared(item.value) or file.is_shared(item.mapping):
        return Diagnostic(CODE, file.span(item.key, item.value), message + _SHARED)
    return Diagnostic(CODE, file.span(item.key, item.value), message, Fix(FixSafety.SAFE, description, tuple(edits)))


_SHARED = "; not fixed: the value is shared through a YAML anchor and alias, change it where the anchor is by hand"


def _sticky_annotations(file: YamlFile, mapping: MappingNode) -> Diagnostic | None:
    listed = entries(mapping)
    triggers = [e for e in listed if scalar(e.value) is not None and is_trigger(e.key.value, scalar(e.value))]
    if not triggers:
        return None
    doomed: list[Entry] = []
    edits: list[Edit] = []
    for item in listed:
        key, value = item.key.value, scalar(item.value)
        if is_aws_tg_attributes(key):
            if item in triggers and value is not None:
                rest = sticky_pairs(value)[1]
                if rest is None:
                    doomed.append(item)
                else:
                    edits.append(file.replace_scalar(item.value, rest))  # type: ignore[arg-type]
        elif item in triggers or is_companion(key):
            doomed.append(item)
    if len(doomed) == len(listed):
        # Templates read `.Values.<parent>.<key>`: leave an empty mapping rather than remove a
        # key (and maybe its parents) that a template dereferences.
        edits.append(Edit(mapping.start_mark.index, file.content_end(mapping), "{}"))
        parent = file.parent(mapping)
        if not mapping.flow_style and parent is not None and parent[1] is not None:
            key = parent[1]
            end = _line_end(file, file.content_end(mapping))
            newline = file.newline if file.text[:end].endswith(("\n", "\r")) else ""
            edits = [Edit(key.end_mark.index, end, ": {}" + newline)]
    elif doomed:
        edits.extend(file.remove(doomed))
    keys = ", ".join(f"`{e.key.value}`" for e in triggers)
    where = _path(file, mapping)
    message = f"values `{where}` carry sticky routing annotations ({keys}): rendered by the chart they pin clients"
    if file.is_shared(mapping):
        return Diagnostic(CODE, file.span(triggers[0].key, triggers[0].value), message + _SHARED)
    description = "Remove the sticky annotations (keep the others)"
    return Diagnostic(
        CODE, file.span(triggers[0].key, triggers[0].value), message, Fix(FixSafety.SAFE, description, tuple(edits))
    )


def _line_end(file: YamlFile, offset: int) -> int:
    line, _ = file.lines.position(offset)
    return file.lines.starts[line] if line < len(file.lines.starts) else len(file.text)


def _mappings(node: Node, seen: set[int] | None = None) -> Iterator[MappingNode]:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        yield node
        for _, value in node.value:
            yield from _mappings(value, seen)
    elif isinstance(node, SequenceNode):
        for child in node.value:
            yield from _mappings(child, seen)


def _path(file: YamlFile, node: Node) -> str:
    parts: list[str] = []
    current = node
    while (found := file.parent(current)) is not None:
        container, key = found
        if isinstance(key, ScalarNode):
            parts.append(key.value)
        elif isinstance(container, SequenceNode):
            parts.append(f"[{next(i for i, n in enumerate(container.value) if n is current)}]")
        current = container
    return ".".join(reversed(parts)).replace(".[", "[")
