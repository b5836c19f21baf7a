"""The package's import graph: no cycle, and the engine does not pull in matplotlib."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import backprop_lib

PACKAGE = Path(backprop_lib.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """{module: backprop_lib modules it imports}, read with ast (every import, lazy ones too)."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            # "from . import x" names a module; "from .m import f" names m
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = {t for t in found if not name.startswith(t + ".") and t != "backprop_lib"}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state and (cycle := visit(nxt, path + [node])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [])):
            return cycle
    return None


def test_the_reader_finds_imports_and_a_cycle():
    graph = import_graph()
    assert "backprop_lib.autograd" in graph["backprop_lib.ops"]
    assert "backprop_lib.ops" in graph["backprop_lib.tensor"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) is not None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_backprop_lib_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_engine_does_not_import_matplotlib():
    code = ("import sys, backprop_lib.engine, backprop_lib.autograd, backprop_lib.tensor\n"
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "import backprop_lib.engine loaded matplotlib"
    assert backprop_lib.draw_graph.__module__ == "backprop_lib.draw"  # still there, lazily
