"""YAML: PyYAML node positions to find things, text splicing to change them.

Nothing is ever re-serialised. `compose_all` gives every node its start and end marks
(character offsets into the text); a fix deletes whole lines (or, in flow style, the exact
characters) of the keys it removes, so comments elsewhere, key order, quoting, anchors and
`---` separators stay byte-identical.

Helm templates are made parseable without moving a byte: a line that holds only template
actions becomes a comment of the same length, and an inline `{{ ... }}` becomes a
placeholder scalar of the same length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import ParseError
from ..model import Edit, Span
from ..source import LineIndex

_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.S)
# Lines that hold only actions; an action may run over several lines (`{{/* ... */}}`).
_TEMPLATE_LINE = re.compile(r"^(?P<indent>[ \t]*)(?P<body>(?:\{\{(?:(?!\}\}).)*\}\}[ \t]*)+)$", re.M | re.S)

ANNOTATION_PREFIX = "ignore-check.mcp-migrate.io/"


def mask_templates(text: str) -> str:
    """Hide Helm/Go template actions from the YAML parser, keeping every offset."""

    def whole_line(match: re.Match[str]) -> str:
        body = match.group("body")
        return match.group("indent") + "#" + _blank(body[1:])

    masked = _TEMPLATE_LINE.sub(whole_line, text)

    # An inline action becomes letters: a plain scalar on its own (`name: xxxx`), inside a
    # quoted one, or as part of one (`host: xxxx.xxxx.svc`), never a flow collection.
    return _TEMPLATE.sub(lambda match: _blank(match.group(), fill="x"), masked)


def _blank(text: str, fill: str = " ") -> str:
    """Same length, line breaks kept (a multi-line action keeps its lines)."""
    return "".join(c if c in "\r\n" else fill for c in text)


@dataclass(frozen=True)
class Entry:
    """One `key: value` of a mapping, with the mapping it belongs to."""

    mapping: MappingNode
    key: ScalarNode
    value: Node


class YamlFile:
    """A parsed YAML stream: documents as PyYAML nodes, plus the helpers rules need."""

    def __init__(self, text: str, newline: str = "\n", *, template: bool = False, path: Path | None = None) -> None:
        self.text = text
        self.newline = newline
        self.path = path
        # Files read to judge this one (a chart's values files): the results cache watches them.
        self.dependencies: set[Path] = set()
        self.template = template or "{{" in text
        self.lines = LineIndex(text)
        self.parse_text = mask_templates(text) if self.template else text
        self._parents: dict[int, tuple[Node, Node | None]] = {}  # id(value) -> (container, key)
        # Nodes reached through more than one path (`&anchor` ... `*alias`): an edit of one
        # place would change, or orphan, the others.
        self.shared: set[int] = set()
        self.valid = True  # the whole stream composes (False: a non-Kubernetes file PyYAML rejects)
        try:
            self.documents: list[Node] = [d for d in yaml.compose_all(self.parse_text, Loader=_Loader) if d is not None]
        except yaml.YAMLError as exc:
            if "apiVersion" not in text:  # not Kubernetes: not ours to complain about
                self.documents = []
                self.valid = False
                return
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ParseError(f"invalid YAML{where}: {problem}") from None
        seen: set[int] = set()
        for document in self.documents:
            self._index(document, seen)

    def fix_problems(self, before: YamlFile) -> list[str]:
        """The engine's check after a YAML fix: a stream that composed must still compose."""
        if before.valid and not self.valid:
            return ["the fixed YAML no longer parses (an alias may have lost its anchor)"]
        return []

    def is_shared(self, node: Node) -> bool:
        return id(node) in self.shared

    def _index(self, node: Node, seen: set[int] | None = None) -> None:
        seen = set() if seen is None else seen
        if id(node) in seen:  # an alias: this node and all below it are reached twice
            self._share(node)
            return
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                self._parents.setdefault(id(value), (node, key))
                self._index(value, seen)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self._parents.setdefault(id(item), (node, None))
                self._index(item, seen)

    def _share(self, node: Node) -> None:
        if id(node) in self.shared:
            return
        self.shared.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                self._share(key)
                self._share(value)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self._share(item)

    # -- positions ---------------------------------------------------------------------------
    def span(self, node: Node, end: Node | None = None) -> Span:
        # From offsets, not PyYAML's line numbers: it also breaks lines at NEL, U+2028 and
        # U+2029, which editors and this index (CR, LF, CRLF) do not.
        line, column = self.lines.position(node.start_mark.index)
        stop = self.content_end(end or node)
        end_line, end_col = self.lines.position(stop)
        return Span(line, column + 1, end_line, end_col + 1)

    def content_end(self, node: Node) -> int:
        """Offset just after the last character that belongs to the node (not the blank
        lines and comments PyYAML's end mark runs on into)."""
        if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
            last = node.value[-1]
            return self.content_end(last[1] if isinstance(node, MappingNode) else last)
        end = node.end_mark.index
        while end > node.start_mark.index and self.text[end - 1] in " \t\r\n":
            end -= 1
        return end

    def is_template_text(self, node: Node) -> bool:
        """The node's text is (or holds) a template action, not literal YAML."""
        return self.template and "{{" in self.text[node.start_mark.index : self.content_end(node)]

    # -- comments ------------------------------------------------------------------------------
    @cached_property
    def comments(self) -> dict[int, tuple[int, str]]:
        """(column, text) of the comment on each line, found between PyYAML's tokens so a `#`
        inside a quoted or plain scalar never counts."""
        taken: list[tuple[int, int]] = []
        try:
            for token in yaml.scan(self.parse_text, Loader=_Loader):
                if isinstance(token, yaml.ScalarToken):
                    taken.append((token.start_mark.index, token.end_mark.index))
        except yaml.YAMLError:
            return {}
        found: dict[int, tuple[int, str]] = {}
        inside = iter(sorted(taken))
        current = next(inside, None)
        for match in re.finditer(r"(?:(?<=[ \t])|^)#", self.parse_text, re.M):
            start = match.start()
            while current is not None and current[1] <= start:
                current = next(inside, None)
            if current is not None and current[0] <= start < current[1]:
                continue
            if self.template and self.text[start] != "#":
                continue  # a masked template line, not a comment the user wrote
            line, column = self.lines.position(start)
            if line not in found:  # the first `#` outside a scalar starts the comment
                found[line] = (column, self.text[start : start + len(self.lines.line_text(line)) - column])
        return found

    # -- navigation ------------------------------------------------------------------------------
    def parent(self, node: Node) -> tuple[Node, Node | None] | None:
        return self._parents.get(id(node))

    def objects(self) -> Iterator[KubeObject]:
        """Kubernetes objects: documents (and `kind: List` items) with apiVersion and kind."""
        for document in self.documents:
            if not isinstance(document, MappingNode):
                continue
            kind = scalar(get(document, "kind"))
            if kind in ("List",) and isinstance(get(document, "items"), SequenceNode):
                for item in get(document, "items").value:  # type: ignore[union-attr]
                    if isinstance(item, MappingNode) and scalar(get(item, "kind")):
                        yield KubeObject(self, item)
            elif kind and scalar(get(document, "apiVersion")) is not None:
                yield KubeObject(self, document)

    # -- edits -------------------------------------------------------------------------------------
    def remove(self, entries: Sequence[Entry]) -> list[Edit]:
        """Edits deleting these entries; a mapping they leave empty goes with its own key
        (or its sequence item), all the way up."""
        by_mapping: dict[int, list[Entry]] = {}
        for entry in entries:
            by_mapping.setdefault(id(entry.mapping), []).append(entry)
        edits: list[Edit] = []
        for group in by_mapping.values():
            mapping = group[0].mapping
            keys = {id(e.key) for e in group}
            if all(id(k) in keys for k, _ in mapping.value):
                edits.extend(self._remove_node(mapping))
            else:
                edits.extend(self._remove_entry(e) for e in group)
        return self.claim_document(entries[0].mapping, _merge(edits)) if entries else _merge(edits)

    def claim_document(self, inside: Node, edits: list[Edit]) -> list[Edit]:
        """Add a no-op edit on the document's first key, so that two fixes in one document
        never apply in the same pass: each could leave a parent mapping the other empties
        holding nothing, and the re-check of the next pass removes it properly."""
        node = inside
        while (found := self.parent(node)) is not None:
            node = found[0]
        if not isinstance(node, MappingNode) or not node.value:
            return edits
        key = node.value[0][0]
        claim = Edit(key.start_mark.index, key.end_mark.index, self.text[key.start_mark.index : key.end_mark.index])
        if any(e.start < claim.end and claim.start < e.end for e in edits):
            return edits
        return [*edits, claim]

    def _remove_node(self, node: Node) -> list[Edit]:
        """Remove a whole collection from where it sits: its key, its item, or leave `{}`."""
        found = self.parent(node)
        if found is None:
            return [Edit(node.start_mark.index, self.content_end(node), "{}")]
        container, key = found
        if isinstance(container, MappingNode) and isinstance(key, ScalarNode):
            return self.remove([Entry(container, key, node)])
        if isinstance(container, SequenceNode):
            if len(container.value) == 1:
                return self._remove_node(container)
            return [self._remove_item(container, node)]
        return []

    def _remove_entry(self, entry: Entry) -> Edit:
        mapping, key, value = entry.mapping, entry.key, entry.value
        siblings = [k for k, _ in mapping.value]
        index = next(i for i, k in enumerate(siblings) if k is key)
        if mapping.flow_style:
            if index + 1 < len(siblings):
                return Edit(key.start_mark.index, siblings[index + 1].start_mark.index)
            previous = mapping.value[index - 1][1]
            return Edit(self.content_end(previous), self.content_end(value))
        start = self.lines.line_start(key.start_mark.index)
        if self.text[start : key.start_mark.index].strip():  # `- key: v`: the item marker stays
            if index + 1 < len(siblings):
                return Edit(key.start_mark.index, siblings[index + 1].start_mark.index)
            start = key.start_mark.index
        return Edit(start, self._line_end(self.content_end(value)))

    def _remove_item(self, sequence: SequenceNode, item: Node) -> Edit:
        if sequence.flow_style:
            items = sequence.value
            index = next(i for i, n in enumerate(items) if n is item)
            if index + 1 < len(items):
                return Edit(item.start_mark.index, items[index + 1].start_mark.index)
            return Edit(self.content_end(items[index - 1]), self.content_end(item))
        dash = self.text.rindex("-", 0, item.start_mark.index + 1)
        return Edit(self.lines.line_start(dash), self._line_end(self.content_end(item)))

    def _line_end(self, offset: int) -> int:
        """Just past the line break of the line holding `offset` (its comment goes too)."""
        line, _ = self.lines.position(offset)
        return self.lines.starts[line] if line < len(self.lines.starts) else len(self.text)

    def replace_scalar(self, node: ScalarNode, value: str) -> Edit:
        """Replace a scalar's value, keeping its quoting style."""
        source = self.text[node.start_mark.index : node.end_mark.index]
        quote = source[0] if source[:1] in ("'", '"') else ""
        return Edit(node.start_mark.index, node.end_mark.index, f"{quote}{value}{quote}")


# libyaml's parser when PyYAML was built with it (about 20x faster; its marks carry the same
# character offsets). Only composing is used: no constructor runs, so no tag can execute code.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_one(text: str) -> Node | None:
    """The one document of `text` as PyYAML composes it as written (no template masking), or
    None when it does not: broken, several documents, or nested past the parser's limit (the
    pure-Python composer recurses: a RecursionError, not a YAMLError)."""
    try:
        return yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return None


@dataclass(frozen=True)
class KubeObject:
    file: YamlFile
    node: MappingNode

    @property
    def kind(self) -> str:
        return scalar(get(self.node, "kind")) or ""

    @property
    def api_version(self) -> str:
        return scalar(get(self.node, "apiVersion")) or ""

    @property
    def name(self) -> str:
        node = get(self.node, "metadata", "name")
        if node is not None and self.file.is_template_text(node):
            return "(templated)"
        return scalar(node) or "?"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name!r}"

    def annotations(self) -> MappingNode | None:
        found = get(self.node, "metadata", "annotations")
        return found if isinstance(found, MappingNode) else None

    def suppressed(self, code: str) -> bool:
        """`ignore-check.mcp-migrate.io/<CODE>: "reason"` on the object (survives Helm rendering)."""
        annotations = self.annotations()
        return annotations is not None and any(
            scalar(k) in (ANNOTATION_PREFIX + code, ANNOTATION_PREFIX + "all") for k, _ in annotations.value
        )


# -- node helpers ---------------------------------------------------------------------------------
def entry(mapping: Node | None, key: str) -> Entry | None:
    if not isinstance(mapping, MappingNode):
        return None
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return Entry(mapping, k, v)
    return None


def get(node: Node | None, *path: str) -> Node | None:
    for key in path:
        found = entry(node, key)
        if found is None:
            return None
        node = found.value
    return node


def scalar(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def entries(mapping: Node | None) -> list[Entry]:
    if not isinstance(mapping, MappingNode):
        return []
    return [Entry(mapping, k, v) for k, v in mapping.value if isinstance(k, ScalarNode)]


def items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _merge(edits: list[Edit]) -> list[Edit]:
    """Deletions that overlap or touch become one (removing both of two adjacent keys)."""
    merged: list[Edit] = []
    for edit in sorted(set(edits)):
        if merged and not merged[-1].text and not edit.text and merged[-1].end >= edit.start:
            merged[-1] = Edit(merged[-1].start, max(merged[-1].end, edit.end))
        else:
            merged.append(edit)
    return merged
