"""Fixes that delete several keys of one Kubernetes object and still compose.

Shared by the policy rules (MCP303, MCP304). Each finding gets its own fix, so a
`# mcp-migrate: ignore[...]` on one occurrence keeps that occurrence out of every fix. A
fix deletes what its finding alone makes pointless: the key, the mapping that leaves empty
(or holding only filler, such as an Istio port-level item with nothing but `port`), and so
on upwards (`YamlFile.remove` does the empty part).

Applied in the same pass, two such fixes can leave a parent empty that neither removes on
its own: deleting `loadBalancer` and `portLevelSettings` from a subset's `trafficPolicy`
would leave `trafficPolicy:` holding `null`. So the fixes are planned in the order the
engine applies them (by position): a fix joins while the ones so far, applied together,
still remove exactly what each removes alone. A fix that would break that is widened to one
edit rewriting the whole region of the ancestor the combination would empty (the same text
minus this finding's lines): it overlaps the earlier fixes there, so the engine leaves it
for the next pass, where it is planned again, now alone. Two passes, however many findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ...edits import EditConflict, apply_edits
from ...lang.yaml import Entry, KubeObject, YamlFile, entries, get, scalar
from ...model import Diagnostic, Edit, Fix, FixSafety, Span

# (mapping, the keys a deletion leaves in it) -> True when those keys mean nothing alone
Filler = Callable[[MappingNode, list[str]], bool]
# a container that must never be removed as a side effect (the fix is then withheld)
Keep = Callable[[Node], bool]


def api_group(api_version: str) -> str:
    """`networking.istio.io/v1beta1` -> `networking.istio.io` (core `v1` -> "")."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def literal(file: YamlFile, node: Node | None) -> str | None:
    """A scalar's value, unless it is (or holds) a Helm template action."""
    if node is None or file.is_template_text(node):
        return None
    return scalar(node)


def label(file: YamlFile, obj: KubeObject) -> str:
    """`Kind 'name'`; `KubeObject.label` would show a Helm template's masked placeholder."""
    name = literal(file, get(obj.node, "metadata", "name"))
    return f"{obj.kind} {name!r}" if name else f"{obj.kind} (templated name)"


def truthy(node: Node | None) -> bool:
    return (scalar(node) or "").strip().lower() == "true"


def walk(node: Node | None, path: str) -> Iterator[tuple[str, Entry]]:
    """Every mapping entry below `node`, depth first, with its dotted path."""
    if isinstance(node, MappingNode):
        for item in entries(node):
            here = f"{path}.{item.key.value}"
            yield here, item
            yield from walk(item.value, here)
    elif isinstance(node, SequenceNode):
        for index, child in enumerate(node.value):
            yield from walk(child, f"{path}[{index}]")


@dataclass(frozen=True)
class Hit:
    """One finding before its fix is planned: where, what, and the entries its fix deletes
    (none: reported only)."""

    span: Span
    message: str
    doomed: tuple[Entry, ...] = ()
    description: str = ""


class Pruner:
    def __init__(self, file: YamlFile, *, filler: Filler | None = None, keep: Keep | None = None) -> None:
        self.file = file
        self.filler = filler
        self.keep = keep

    # -- what goes -------------------------------------------------------------------------------
    def lift(self, doomed: Iterable[Entry]) -> list[Node] | None:
        """The outermost nodes removing `doomed` takes with it (each a mapping value or a
        sequence item), or None when that would remove a node `keep` protects."""
        nodes = {id(e.value): e.value for e in doomed}
        while True:
            self._drop_nested(nodes)
            by_parent: dict[int, tuple[Node, set[int]]] = {}
            for node in nodes.values():
                found = self.file.parent(node)
                if found is not None:
                    by_parent.setdefault(id(found[0]), (found[0], set()))[1].add(id(node))
            lifted = False
            for container, children in by_parent.values():
                if self.file.parent(container) is None or not self._spent(container, children):
                    continue  # a document is never removed
                if self.keep is not None and self.keep(container):
                    return None
                for child in children:
                    nodes.pop(child, None)
                nodes[id(container)] = container
                lifted = True
            if not lifted:
                return list(nodes.values())

    def _drop_nested(self, nodes: dict[int, Node]) -> None:
        for key, node in list(nodes.items()):
            found = self.file.parent(node)
            while found is not None:
                if id(found[0]) in nodes:
                    del nodes[key]
                    break
                found = self.file.parent(found[0])

    def _spent(self, container: Node, gone: set[int]) -> bool:
        if isinstance(container, SequenceNode):
            return all(id(item) in gone for item in container.value)
        if not isinstance(container, MappingNode):
            return False
        rest = [k for k, v in container.value if id(v) not in gone]
        if not rest:
            return True
        if self.filler is None or not all(isinstance(k, ScalarNode) for k in rest):
            return False
        return self.filler(container, [k.value for k in rest])

    def remaining(self, mapping: Node | None, doomed: Iterable[Entry]) -> list[str] | None:
        """The keys of `mapping` left after deleting `doomed` (None: the fix is withheld)."""
        targets = self.lift(doomed)
        if targets is None or not isinstance(mapping, MappingNode):
            return None
        gone = {id(t) for t in targets}
        node: Node | None = mapping
        while node is not None:
            if id(node) in gone:
                return []
            found = self.file.parent(node)
            node = found[0] if found else None
        return [k.value for k, v in mapping.value if isinstance(k, ScalarNode) and id(v) not in gone]

    # -- edits -----------------------------------------------------------------------------------
    def _removal(self, targets: Sequence[Node]) -> list[Edit] | None:
        doomed: list[Entry] = []
        for target in targets:
            found = self.file.parent(target)
            if found is None:
                return None
            container, key = found
            if isinstance(container, MappingNode) and isinstance(key, ScalarNode):
                doomed.append(Entry(container, key, target))
            elif isinstance(container, SequenceNode) and isinstance(target, MappingNode) and target.value:
                if not all(isinstance(k, ScalarNode) for k, _ in target.value):
                    return None
                doomed.extend(entries(target))  # every key of the item: the item goes
            else:
                return None
        return self.file.remove(doomed)

    def _region(self, node: Node) -> tuple[int, int]:
        """The text a removal of `node` could touch: whole lines in block style."""
        found = self.file.parent(node)
        container, key = found if found else (None, None)
        text = self.file.text
        anchor = key.start_mark.index if isinstance(key, ScalarNode) else node.start_mark.index
        if isinstance(container, SequenceNode) and not container.flow_style:
            anchor = text.rindex("-", 0, node.start_mark.index + 1)
        end = self.file.content_end(node)
        if isinstance(container, (MappingNode, SequenceNode)) and container.flow_style:
            return anchor, end
        start = self.file.lines.line_start(anchor)
        if text[start:anchor].strip(" \t-"):
            start = anchor
        line, _ = self.file.lines.position(end)
        starts = self.file.lines.starts
        return start, starts[line] if line < len(starts) else len(text)

    def plan(self, changes: Sequence[Sequence[Entry]]) -> list[tuple[Edit, ...] | None]:
        """The edits of each change's own fix; `changes` in the order of their findings."""
        accepted: list[Entry] = []
        expected: dict[int, Node] = {}
        plans: list[tuple[Edit, ...] | None] = []
        for change in changes:
            alone = self.lift(change)
            together = self.lift([*accepted, *change])
            if alone is None or together is None:
                plans.append(None)
                continue
            outer = {id(n): n for n in together}
            if outer.keys() == expected.keys() | {id(n) for n in alone}:
                accepted += change
                expected.update((id(n), n) for n in alone)
            plans.append(self._plan_one(alone, outer))
        return plans

    def _plan_one(self, targets: list[Node], outer: dict[int, Node]) -> tuple[Edit, ...] | None:
        direct = [t for t in targets if id(t) in outer]
        widened: dict[int, tuple[Node, list[Node]]] = {}
        for target in targets:
            if id(target) in outer:
                continue
            cover = self._cover(target, outer)
            if cover is None:
                return None
            widened.setdefault(id(cover), (cover, []))[1].append(target)
        edits: list[Edit] = []
        if direct:
            removal = self._removal(direct)
            if removal is None:
                return None
            edits += removal
        for cover, inner in widened.values():
            removal = self._removal(inner)
            if removal is None:
                return None
            start, end = self._region(cover)
            if any(e.start < start or e.end > end for e in removal):
                return None
            shifted = [Edit(e.start - start, e.end - start, e.text) for e in removal]
            edits.append(Edit(start, end, apply_edits(self.file.text[start:end], shifted)))
        try:
            apply_edits(self.file.text, edits)
        except EditConflict:
            return None
        return tuple(sorted(edits))

    def _cover(self, node: Node, outer: dict[int, Node]) -> Node | None:
        found = self.file.parent(node)
        while found is not None:
            if id(found[0]) in outer:
                return found[0]
            found = self.file.parent(found[0])
        return None

    # -- findings --------------------------------------------------------------------------------
    def diagnostics(self, code: str, hits: Sequence[Hit]) -> Iterator[Diagnostic]:
        """One diagnostic per hit; safe fixes, except in Helm templates (reported only)."""
        fixable = sorted((h for h in hits if h.doomed), key=lambda h: h.span)
        plans = dict(zip(map(id, fixable), self.plan([h.doomed for h in fixable]), strict=True))
        for hit in hits:
            planned = plans.get(id(hit))
            fix = None
            if planned is not None and not self.file.template:
                fix = Fix(FixSafety.SAFE, hit.description, planned)
            yield Diagnostic(code, hit.span, hit.message, fix)
