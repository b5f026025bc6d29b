"""Safe YAML for admin-written documents, keeping the line of every value.

- No tags: anything but plain scalars, sequences and mappings is an error.
- YAML 1.1 booleans `yes/no/on/off/y/n` stay strings; only `true/false` are booleans.
- Duplicate mapping keys are errors (PyYAML would silently keep the last one).
- Returns plain Python data plus a table `path -> line` (1-based) for error messages.
- Bounded: at most MAX_CHARS of text, MAX_DEPTH levels of nesting, MAX_ALIASES aliases and
  MAX_NODES values after alias expansion, so an alias bomb or `[[[[...` is refused in
  milliseconds instead of freezing the process or overflowing the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

_STD = "tag:yaml.org,2002:"
MAX_CHARS = 256 * 1024  # the shipped scripts are under 10 kB
MAX_DEPTH = 50
MAX_ALIASES = 200
MAX_NODES = 50_000  # values visited, counting every expansion of an alias
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}


class _TooBig(yaml.YAMLError):
    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.message, self.mark = message, mark


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer counts nesting depth and aliases as it goes."""

    _depth = 0
    _aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _TooBig(f"more than {MAX_ALIASES} aliases", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooBig(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


# Rebuild the implicit resolvers without YAML 1.1's yes/no/on/off booleans.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != _STD + "bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, (_STD + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class DocumentError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class Document:
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        """Line of the value at `path`, or of its nearest ancestor."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def load_document(text: str) -> Document:
    if len(text) > MAX_CHARS:
        raise DocumentError([Problem(1, f"the document is longer than {MAX_CHARS // 1024} kB")])
    try:
        node = yaml.compose(text, Loader=_Loader)
    except _TooBig as exc:
        raise DocumentError([Problem(exc.mark.line + 1 if exc.mark else 1, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise DocumentError([Problem(line, f"YAML syntax: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise DocumentError([Problem(1, f"YAML: {exc}")]) from None
    doc = Document(None)
    problems: list[Problem] = []
    if node is None:
        raise DocumentError([Problem(1, "the document is empty")])
    budget = [MAX_NODES]
    try:
        doc.data = _convert(node, (), doc, problems, budget)
    except _TooBig as exc:
        raise DocumentError([Problem(exc.mark.line + 1 if exc.mark else 1, exc.message)]) from None
    if problems:
        raise DocumentError(problems)
    return doc


def _convert(node: yaml.Node, path: Path, doc: Document, problems: list[Problem], budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig(f"more than {MAX_NODES} values once aliases are expanded", node.start_mark)
    line = node.start_mark.line + 1
    doc.lines[path] = line
    if node.tag not in _ALLOWED_TAGS:
        problems.append(Problem(line, f"tag {node.tag!r} is not allowed"))
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode):
                problems.append(Problem(knode.start_mark.line + 1, "mapping keys must be plain text"))
                continue
            if knode.tag not in _ALLOWED_TAGS:
                problems.append(Problem(knode.start_mark.line + 1, f"tag {knode.tag!r} is not allowed"))
                continue
            key = str(knode.value)
            if key in out:
                problems.append(Problem(knode.start_mark.line + 1, f"duplicate key {key!r}"))
                continue
            out[key] = _convert(vnode, (*path, key), doc, problems, budget)
            doc.lines[(*path, key)] = knode.start_mark.line + 1  # errors point at the key
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(v, (*path, i), doc, problems, budget) for i, v in enumerate(node.value)]
    if node.tag in (_STD + "seq", _STD + "map"):
        problems.append(Problem(line, f"tag {node.tag!r} on a plain value"))
        return None
    try:
        return _Loader.yaml_constructors[node.tag](_SCALARS, node)
    except (ValueError, yaml.YAMLError) as exc:
        problems.append(Problem(line, f"bad value: {exc}"))
        return None


# The scalar constructors of the allowed tags keep no state, so one loader serves every call
# (building a loader per scalar made big documents slow).
_SCALARS = _Loader("")
