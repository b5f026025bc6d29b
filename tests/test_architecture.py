"""The import structure an outside reader can check: no circle of files, no import that runs back
up the layers, one G.711 module, aiortp either used or not pinned. Imports anywhere in a file count
(a function-level import is still a dependency)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "audio", "storage")

# Bottom to top: a module may import its own layer and the ones below it, never one above.
LAYERS = [
    ("storage", "audio", "bot.privacy", "bot.config", "bot.settings"),  # settings are read by every layer
    ("bot.nlu",),
    ("bot.dialog",),
    ("bot.calls", "bot.simulate"),
    ("bot.pipeline",),
    ("bot.telephony",),
    ("bot.campaigns",),
    ("bot.console",),
    ("bot",),  # entry points: bot.cli, bot.serve, bot.config, the *_cli modules
]


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(filter(None, (_resolve(a.name) for a in node.names)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") if f"{base}.{alias.name}" in MODULES else _resolve(base)
                if target:
                    out.add(target)
    out.discard(module)
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(module: str) -> int:
    if module.rpartition(".")[2] in ("cli", "__main__") or module.endswith("_cli"):
        return len(LAYERS) - 1  # a command-line module is an entry point, whatever room it sits in
    best = (-1, len(LAYERS) - 1)
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = (len(prefix), rank)
    return best[1]


def test_no_circle_of_files():
    index, low, stack, on_stack, circles, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert circles == []


def test_no_import_runs_back_up_the_layers():
    upward = sorted(f"{m} ({_layer(m)}) -> {d} ({_layer(d)})"
                    for m, deps in GRAPH.items() for d in deps if _layer(d) > _layer(m))
    assert upward == [], "\n".join(upward)


def test_storage_audio_and_the_dialog_core_import_nothing_above_them():
    for module, deps in GRAPH.items():
        if module.startswith(("storage", "audio")):
            assert not [d for d in deps if d.startswith("bot")], module
        if module.startswith(("bot.dialog", "bot.nlu")):
            bad = [d for d in deps if d.startswith(("bot.pipeline", "bot.telephony", "bot.campaigns", "bot.console",
                                                     "storage"))]
            assert not bad, (module, bad)


def test_one_g711_module():
    assert [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("g711.py") if ".venv" not in p.parts] == ["audio/g711.py"]


def test_aiortp_is_used_or_not_pinned():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = any(d.replace(" ", "").lower().startswith("aiortp") for d in deps)
    used = any("aiortp" in GRAPH_IMPORTS for GRAPH_IMPORTS in _external_imports())
    assert pinned == used


def _external_imports() -> set[str]:
    names = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_the_layer_table_names_real_packages():
    for prefixes in LAYERS:
        for prefix in prefixes:
            assert any(m == prefix or m.startswith(prefix + ".") for m in MODULES), prefix
