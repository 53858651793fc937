"""The import graph of the project has no cycle: every .py file under oracle/, adapters/, suites/ and
reports/, and conftest.py, is parsed with `ast` (nothing is imported), and each import that resolves to a project
module is an edge, module-level or deferred (inside a function: a deferred import that dodges a cycle is still a
cycle of the design, so it counts, and the failure message says which edges are deferred). Also: oracle/params.py
is a leaf, and the oracle imports no framework."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("oracle", "adapters", "suites", "reports")
TOP_MODULES = ("conftest.py",)
FRAMEWORKS = frozenset({"tensorflow", "keras", "tf_keras", "torch", "jax"})

@dataclass(frozen=True)
class Edge:
    source: str     # importing module, dotted
    target: str     # imported project module, dotted ('oracle' is oracle/__init__.py)
    line: int
    deferred: bool  # inside a function body: runs at call time, not at import time


def module_files(root: Path = ROOT, packages=PACKAGES, top=TOP_MODULES) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the project (a package is its __init__.py)."""
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for name in top:
        if (root / name).is_file():
            out[name.removesuffix(".py")] = root / name
    return out


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of `level` dots starts from."""
    parts = module.split(".") if _is_package(path) else module.split(".")[:-1]
    if level - 1 >= len(parts):
        raise ImportError(f"{path}: relative import beyond the top-level package")
    return ".".join(parts[:len(parts) - (level - 1)])


def _project(name: str, modules: dict) -> str | None:
    """The project module an absolute dotted name imports: itself, or its nearest enclosing project module."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in modules:
            return ".".join(parts[:i])
    return None


def _deferred_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside a function (lambda bodies hold no statements)."""
    out = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return out


def imports_of(module: str, path: Path, modules: dict) -> tuple[list[Edge], list[tuple[str, int, bool]]]:
    """(edges to project modules, every absolute top-level name imported as (name, line, deferred))."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    deferred = _deferred_nodes(tree)
    edges, names = [], []
    for node in ast.walk(tree):
        late = id(node) in deferred
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.append((alias.name.split(".")[0], node.lineno, late))
                target = _project(alias.name, modules)
                if target is not None:
                    edges.append(Edge(module, target, node.lineno, late))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _base(module, path, node.level)
                source = f"{base}.{node.module}" if node.module and base else (node.module or base)
            else:
                source = node.module
                names.append((source.split(".")[0], node.lineno, late))
            for alias in node.names:
                # `from package import name`: the submodule when there is one, else an attribute of the package
                sub = f"{source}.{alias.name}"
                target = sub if sub in modules else _project(source, modules)
                if target is not None:
                    edges.append(Edge(module, target, node.lineno, late))
    return edges, names


def import_graph(modules: dict) -> dict[str, list[Edge]]:
    """module -> its edges to other project modules (self-imports dropped)."""
    return {m: [e for e in imports_of(m, p, modules)[0] if e.target != m] for m, p in modules.items()}


def strongly_connected(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, iteratively (no recursion limit)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted({e.target for e in graph[start]})))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted({e.target for e in graph.get(nxt, [])}))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:  # every successor done: pop, and close the component at its root
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return sorted(out)


def _shortest_cycle(graph: dict[str, list[Edge]], start: str, members: set[str]) -> list[Edge]:
    """The shortest cycle from `start` back to itself inside one component (breadth first)."""
    seen, frontier = {start: []}, [start]
    while frontier:
        nxt = []
        for node in frontier:
            for e in sorted(graph[node], key=lambda e: (e.target, e.deferred, e.line)):
                if e.target == start:
                    return seen[node] + [e]
                if e.target in members and e.target not in seen:
                    seen[e.target] = seen[node] + [e]
                    nxt.append(e.target)
        frontier = nxt
    raise AssertionError(f"{start} is on no cycle of its component")


def cycles(graph: dict[str, list[Edge]], component: list[str], modules: dict) -> list[str]:
    """Readable cycles covering a component: the shortest one through each module, rotation duplicates dropped,
    as `a.py -> b.py -> a.py` (file paths), the deferred edges named after it."""
    out, seen = [], set()
    rel = {m: modules[m].relative_to(ROOT).as_posix() if modules[m].is_relative_to(ROOT) else str(modules[m])
           for m in component}
    for start in component:
        path = _shortest_cycle(graph, start, set(component))
        key = frozenset((e.source, e.target) for e in path)
        if key in seen:
            continue
        seen.add(key)
        text = " -> ".join([rel[path[0].source], *(rel[e.target] for e in path)])
        late = [f"{rel[e.source]}:{e.line} -> {rel[e.target]}" for e in path if e.deferred]
        out.append(text + (f"  [deferred: {'; '.join(late)}]" if late else ""))
    return out


def _files(component, modules) -> frozenset[str]:
    return frozenset(modules[m].relative_to(ROOT).as_posix() for m in component)


@pytest.fixture(scope="module")
def project():
    modules = module_files()
    graph = import_graph(modules)
    return modules, graph, strongly_connected(graph)


def test_no_import_cycle(project):
    """No import cycle anywhere (a deferred import inside a function counts as an edge too)."""
    modules, graph, components = project
    found = list(components)
    assert not found, "import cycles:\n" + "\n".join(line for c in found for line in cycles(graph, c, modules))


def test_params_is_a_leaf():
    """oracle/params.py (the parsers every family's spec uses) imports no project module, deferred or not."""
    modules = module_files()
    edges, _ = imports_of("oracle.params", modules["oracle.params"], modules)
    assert not edges, [f"oracle/params.py:{e.line} -> {e.target}" for e in edges]


def test_the_oracle_imports_no_framework():
    """The oracle is pure NumPy: no module under oracle/ imports a framework, even at call time."""
    modules = module_files()
    bad = [f"{modules[m].relative_to(ROOT)}:{line} imports {name}" for m in modules if m.split(".")[0] == "oracle"
           for name, line, _ in imports_of(m, modules[m], modules)[1] if name in FRAMEWORKS]
    assert not bad, bad


def test_the_resolver_on_a_small_tree(tmp_path):
    """Relative imports, a submodule imported from its package, an attribute of a package's __init__, deferred
    imports and a three-module cycle, on a throwaway tree."""
    files = {
        "pkg/__init__.py": "from . import a\nfrom .b import thing\n",
        "pkg/a.py": "from pkg import helper\nfrom .sub import deep\n",
        "pkg/b.py": "import numpy\nthing = 1\ndef late():\n    from .a import x\n",
        "pkg/helper.py": "",
        "pkg/sub/__init__.py": "from .. import b\nfrom ..helper import y\n",
        "pkg/sub/deep.py": "import other\nfrom .. import helper\n",
        "other/__init__.py": "from pkg import thing\n",
        "top.py": "import pkg.sub.deep\nimport other.missing\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    modules = module_files(tmp_path, ("pkg", "other"), ("top.py",))
    got = {(e.source, e.target, e.deferred) for es in import_graph(modules).values() for e in es}
    assert got == {("pkg", "pkg.a", False), ("pkg", "pkg.b", False), ("pkg.a", "pkg.helper", False),
                   ("pkg.a", "pkg.sub.deep", False), ("pkg.b", "pkg.a", True), ("pkg.sub", "pkg.b", False),
                   ("pkg.sub", "pkg.helper", False), ("pkg.sub.deep", "other", False),
                   ("pkg.sub.deep", "pkg.helper", False), ("other", "pkg", False), ("top", "pkg.sub.deep", False),
                   ("top", "other", False)}
    assert strongly_connected(import_graph(modules)) == [["other", "pkg", "pkg.a", "pkg.b", "pkg.sub.deep"]]
