"""Refuse YAML whose structure is hostile before anything walks it.

A few hundred bytes of anchors and aliases ("billion laughs") describe a
tree of billions of values: everything that walks the tree (the line index,
pydantic, templates) hangs and eats memory. An anchor that contains an alias
to itself describes an infinite tree. Thousands of nested ``- - - -`` crash
the C composer. A key that is a list (``? [a, b]``) cannot become a Python
dict key. The parser's event stream shows all of these without building
anything, so one pass over it, with fixed budgets, comes first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsctl.errors import ConfigError

MAX_DEPTH = 100  # real files nest fewer than 10 levels
MAX_ALIAS_NODES = 10_000  # values reached through aliases; merge keys (`<<: *base`) stay far below


@dataclass
class _Open:
    """A collection being read: what it is, its anchor, where its expanded size started."""

    mapping: bool
    anchor: str | None
    start: int
    count: int = 0  # children so far (keys and values both count in a mapping)
    key: str | int | None = field(default=None)


@dataclass
class _Scan:
    label: str
    sizes: dict[str, int] = field(default_factory=dict)  # anchor -> values in its expanded tree
    collections: dict[str, str] = field(default_factory=dict)  # anchor of a list or mapping -> "a list"...
    anchored_at: dict[str, int] = field(default_factory=dict)  # anchor -> line where it is defined
    stack: list[_Open] = field(default_factory=list)
    total: int = 0  # values in the expanded document so far
    via_alias: int = 0

    def error(self, event: Any, message: str, *, depth: int | None = None) -> ConfigError:
        """``file:line: a -> b: message`` for the node at ``event`` (path of the first ``depth`` levels)."""
        where = f"{self.label}:{event.start_mark.line + 1}"
        path = " -> ".join(str(o.key) for o in self.stack[:depth] if o.key is not None)
        return ConfigError(f"{where}: {path}: {message}" if path else f"{where}: {message}")

    def anchor(self, event: Any) -> None:
        """Refuse a second ``&name`` (the composer would, with a two-part message)."""
        name = event.anchor
        if name is None:
            return
        if name in self.anchored_at:
            raise self.error(event, f"anchor &{name} is defined twice (first at line {self.anchored_at[name]})")
        self.anchored_at[name] = event.start_mark.line + 1

    def child(self, event: Any, *, collection: bool, alias: str | None = None) -> None:
        """Account for a node that starts at ``event`` inside the current collection."""
        if not self.stack:
            return
        parent = self.stack[-1]
        if parent.mapping and parent.count % 2 == 0:  # a key
            kind = _kind(event) if collection else self.collections.get(alias or "")
            if kind is not None:
                raise self.error(event, f"a key must be a plain name, not {kind}", depth=len(self.stack) - 1)
            parent.key = str(getattr(event, "value", alias))
        elif not parent.mapping:
            parent.key = parent.count
        parent.count += 1


def _kind(event: Any) -> str:
    import yaml

    return "a mapping" if isinstance(event, yaml.MappingStartEvent) else "a list"


def check_structure(loader: Any, label: str) -> None:
    """Consume ``loader``'s events; raise ConfigError on anything hostile, naming file and line.

    ``loader`` is a fresh PyYAML loader over the text (its events are used up).
    Parse errors propagate as the ``yaml.MarkedYAMLError`` the caller reports.
    """
    import yaml

    scan = _Scan(label)
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.CollectionStartEvent):
            scan.child(event, collection=True)
            scan.anchor(event)
            if len(scan.stack) >= MAX_DEPTH:
                # Name only the top-level key: the full path would be a hundred `0 ->`.
                raise scan.error(event, f"nested more than {MAX_DEPTH} levels deep; flatten it", depth=1)
            scan.stack.append(_Open(isinstance(event, yaml.MappingStartEvent), event.anchor, scan.total))
            scan.total += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            closed = scan.stack.pop()
            if closed.anchor is not None:
                scan.sizes[closed.anchor] = scan.total - closed.start
                scan.collections[closed.anchor] = "a mapping" if closed.mapping else "a list"
        elif isinstance(event, yaml.ScalarEvent):
            scan.child(event, collection=False)
            scan.anchor(event)
            scan.total += 1
            if event.anchor is not None:
                scan.sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            _alias(scan, event)


def _alias(scan: _Scan, event: Any) -> None:
    name = event.anchor
    scan.child(event, collection=False, alias=name)
    if any(o.anchor == name for o in scan.stack):
        raise scan.error(event, f"alias *{name} is inside its own anchor &{name}; a value cannot contain itself")
    size = scan.sizes.get(name, 1)  # an undefined alias is reported by the composer, with its line
    scan.via_alias += size
    scan.total += size
    if scan.via_alias > MAX_ALIAS_NODES:
        raise scan.error(
            event, f"aliases expand to more than {MAX_ALIAS_NODES:,} values (a YAML bomb?); write the values out"
        )
