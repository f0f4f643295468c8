"""Load YAML files keeping line numbers, and turn validation errors into ``file:line: path: message``.

Every user-edited file (opsctl.yaml, checklists, runbooks) goes through
:func:`load_yaml_mapping`, so all of them reject the same bad shapes with the
same clear one-line errors: odd files (fifos, devices, over 1 MiB), YAML
bombs and self-referencing anchors, keys that are lists, bad scalar values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsctl.errors import ConfigError
from opsctl.files.paths import display_path
from opsctl.files.reading import read_regular_file
from opsctl.files.yamlguard import check_structure

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["Loc", "YamlDoc", "describe_error", "display_path", "load_yaml_mapping", "validation_error"]

Loc = tuple[str | int, ...]

# The characters YAML allows (PyYAML's reader uses the same set).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class YamlDoc:
    """A parsed YAML mapping plus the line of every key path in it."""

    path: Path
    data: dict[str, Any]
    lines: dict[Loc, int] = field(default_factory=dict)
    digest: str = ""  # sha256 of the bytes parsed: `resume` refuses a runbook that changed since

    @property
    def label(self) -> str:
        return display_path(self.path)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """The line of the longest prefix of ``loc`` that exists in the file."""
        loc = tuple(loc)
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1

    def error(self, loc: Sequence[str | int], message: str) -> ConfigError:
        where = f"{self.label}:{self.line_of(loc)}"
        path = " -> ".join(str(p) for p in loc)
        return ConfigError(f"{where}: {path}: {message}" if path else f"{where}: {message}")


def load_yaml_mapping(path: Path, *, what: str = "file") -> YamlDoc:
    """Parse ``path`` as a YAML mapping or raise a ConfigError that says what is wrong and where.

    The file must be a regular file of at most 1 MiB (:mod:`opsctl.files.reading`)
    and its aliases and nesting stay within :mod:`opsctl.files.yamlguard`'s budgets.
    """
    import hashlib

    label = display_path(path)
    raw = read_regular_file(path, what=what)
    if b"\x00" in raw:
        raise ConfigError(f"{label}: not a text file (binary content); expected a YAML {what}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from None
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise ConfigError(f"{label}: file is empty; expected a YAML mapping")
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        # The parser would say this too, but as a character offset on two lines; give the line.
        line = text.count("\n", 0, bad.start()) + 1
        raise ConfigError(f"{label}:{line}: invalid YAML: control character U+{ord(bad.group()):04X} is not allowed")
    data, lines = _parse(text, label)
    return YamlDoc(path, data, lines, hashlib.sha256(raw).hexdigest())


def _parse(text: str, label: str) -> tuple[dict[str, Any], dict[Loc, int]]:
    import yaml

    loader_cls = _loader_class()
    try:
        scan = loader_cls(text)
        try:
            check_structure(scan, label)
        finally:
            scan.dispose()
        loader = loader_cls(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ConfigError(f"{label}: file is empty; expected a YAML mapping")
            if not isinstance(node, yaml.MappingNode):
                kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
                raise ConfigError(
                    f"{label}:{node.start_mark.line + 1}: the top level is {kind}; expected a mapping of keys"
                )
            lines: dict[Loc, int] = {}
            _index(node, (), lines, label)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{label}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{label}: invalid YAML: {str(exc).splitlines()[0]}") from None
    return data, lines


@functools.cache
def _loader_class() -> type[Any]:
    """The C-accelerated safe loader when available, reporting bad scalar values with their line."""
    import yaml

    base: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc]
        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except (ValueError, OverflowError) as exc:
                # `2026-02-30` or a 5,000-digit number: a bad value, not a bug; say where it is.
                kind = str(node.tag).rsplit(":", 1)[-1]
                problem = f"not a valid {kind}: {_first_clause(exc)}"
                raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None

    return Loader


def _first_clause(exc: Exception) -> str:
    """The message up to its first ``;`` (Python's advice after it is for programmers)."""
    text = str(exc).split(";", 1)[0].strip() or type(exc).__name__
    return text[:1].lower() + text[1:]


def _index(node: Any, loc: Loc, lines: dict[Loc, int], label: str) -> None:
    import yaml

    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value  # a scalar: yamlguard refused list and mapping keys
            line = key_node.start_mark.line + 1
            if key in seen:
                path = " -> ".join(str(p) for p in (*loc, key))
                raise ConfigError(f"{label}:{line}: {path}: duplicate key (first at line {seen[key]})")
            seen[key] = line
            lines[(*loc, key)] = line
            _index(value_node, (*loc, key), lines, label)
            lines[(*loc, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*loc, i), lines, label)


def validation_error(doc: YamlDoc, exc: ValidationError, *, prefix: Loc = ()) -> ConfigError:
    """The first pydantic error of ``exc`` as ``file:line: a -> b -> c: message``."""
    err = exc.errors(include_url=False)[0]
    raw_loc: tuple[str | int, ...] = (*prefix, *err["loc"])
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # Name the discriminator key itself (and its line): `platform -> kind: expected ...`.
        raw_loc = (*raw_loc, str((err.get("ctx") or {}).get("discriminator", "kind")).strip("'"))
    loc = _data_loc(doc, raw_loc)
    return doc.error(loc, describe_error(err))


def _data_loc(doc: YamlDoc, loc: Iterable[str | int]) -> Loc:
    """Drop the union tags pydantic puts in ``loc`` (``'ecs'``, ``'function-after[...]'``)."""
    items = list(loc)
    out: list[str | int] = []
    for i, part in enumerate(items):
        candidate = (*out, part)
        if candidate in doc.lines or i == len(items) - 1:
            out.append(part)
    return tuple(out)


def describe_error(err: Any) -> str:
    """One pydantic error as the short sentence users see (no pydantic jargon)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key; check the spelling (see `opsctl config schema`)"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}"
    if kind == "union_tag_invalid":
        return f"expected {str(ctx.get('expected_tags', '')).replace(', ', ' or ')}"
    if kind == "union_tag_not_found":
        return "required key is missing"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
    message = str(err["msg"])
    return message[0].lower() + message[1:] if message else kind
