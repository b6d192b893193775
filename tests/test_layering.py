"""The layering rules, checked on the source: no import cycles in functions/, infra/ and ml_endpoints/, and
no AWS SDK (or web framework, for domain/) above functions/store.

Imports are read with `ast`, so nothing is imported to check them. An import inside a function counts as
much as one at the top of a module (it runs the first time the function does, and a cycle through it is
still a cycle); one under `if TYPE_CHECKING:` never runs and does not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("functions", "infra", "ml_endpoints")

# Above functions/store nothing talks to AWS or knows the ORM: not through the SDK, not through the store's
# raw clients and table models, not through Powertools' utilities that call AWS themselves. domain/ knows no
# web framework either. A name bans itself and everything under it.
AWS = (
    "boto3",
    "botocore",
    "pynamodb",
    "functions.store.aws_clients",
    "functions.store.models",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parameters",
)
FORBIDDEN = {
    "functions.services": AWS,
    "functions.api": AWS,
    "functions.events": AWS,
    "functions.domain": (*AWS, "fastapi"),
}


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the given top-level packages."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node`, except the bodies of `if TYPE_CHECKING:` (their `else:` does run)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.orelse:
                yield statement
                yield from _runtime_nodes(statement)
            continue
        yield child
        yield from _runtime_nodes(child)


def imported_names(module: str, path: Path, *, runtime_only: bool) -> set[str]:
    """The dotted names `module` imports, relative ones made absolute. `from a import b` gives `a.b`, which
    may name a module or something in module `a`: `import_graph` tells them apart."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    nodes = _runtime_nodes(tree) if runtime_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                # `from . import x` in a package's __init__ is relative to the package itself.
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names.update(f"{prefix}.{alias.name}" if alias.name != "*" else prefix for alias in node.names)
    return names


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports at run time. A name that is not a module (`get` in `from
    functions.store.tasks import get`) counts as its module. The parent packages an import runs first are
    left out, as import checkers do: ours hold docstrings and their own submodules' names."""
    modules = module_files(root, packages)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path, runtime_only=True):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other (strongly connected components), sorted."""
    # Tarjan's strongly connected components, iteratively (no recursion limit on a deep import chain).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def cycle_through(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """The shortest cycle from the component's first module back to itself, staying inside the component."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        next_frontier = []
        for node in frontier:
            for successor in sorted(graph[node] & members):
                if successor == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, node, start]
                if successor not in came_from:
                    came_from[successor] = node
                    next_frontier.append(successor)
        frontier = next_frontier
    raise AssertionError(f"{component} is not a cycle")


def forbidden_imports(root: Path) -> dict[str, list[str]]:
    """Module -> the names it imports that its layer may not (TYPE_CHECKING imports included: the AWS SDK's
    types above the store are as wrong as its calls)."""
    found = {}
    for module, path in module_files(root, ("functions",)).items():
        banned = {
            name for layer, names in FORBIDDEN.items() if module.startswith(layer + ".") for name in names
        }
        hits = {
            ban
            for name in imported_names(module, path, runtime_only=False)
            for ban in banned
            if name == ban or name.startswith(ban + ".")
        }
        if hits:
            found[module] = sorted(hits)
    return found


def test_no_import_cycles():
    graph = import_graph(ROOT, PACKAGES)
    groups = import_cycles(graph)
    assert not groups, "import cycles:\n" + "\n".join(
        f"{' -> '.join(cycle_through(group, graph))}  (the cycle's modules: {', '.join(group)})"
        for group in groups
    )


def test_no_aws_above_the_store():
    found = forbidden_imports(ROOT)
    assert not found, "imports not allowed in their layer:\n" + "\n".join(
        f"{module}: {', '.join(hits)}" for module, hits in sorted(found.items())
    )


# The checks above pass on a clean tree whether or not they can see anything, so they are tried on a small
# package with known imports first.


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cycle_check_sees_function_level_and_relative_imports(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "def thing():\n    from . import c\n",
            "pkg/c.py": "import pkg.a\n",
            "pkg/d.py": "import pkg.a\n",
        },
    )
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.b"] == {"pkg.c"}
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert cycle_through(["pkg.a", "pkg.b", "pkg.c"], graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_cycle_check_ignores_type_checking_imports(tmp_path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": (
                "from typing import TYPE_CHECKING\n"
                "import typing\n"
                "if TYPE_CHECKING:\n    from pkg.a import A\n"
                "if typing.TYPE_CHECKING:\n    import pkg.a\nelse:\n    import pkg.c\n"
            ),
            "pkg/c.py": "",
        },
    )
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.b"] == {"pkg.c"}
    assert import_cycles(graph) == []


def test_forbidden_import_check_sees_each_layer(tmp_path):
    _write(
        tmp_path,
        {
            "functions/__init__.py": "",
            "functions/domain/rules.py": "from fastapi import HTTPException\n",
            "functions/services/calls.py": "def f():\n    import botocore.exceptions\n",
            "functions/events/typed.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import boto3\n"
            ),
            "functions/services/queues.py": "from functions.store.aws_clients import client\n",
            "functions/services/secret.py": "from aws_lambda_powertools.utilities import parameters\n",
            "functions/services/reads.py": (
                "from functions.store import tasks\nimport aws_lambda_powertools\n"
            ),
            "functions/api/routes.py": "import fastapi\n",
            "functions/store/tables.py": "import boto3\nimport pynamodb\n",
        },
    )
    assert forbidden_imports(tmp_path) == {
        "functions.domain.rules": ["fastapi"],
        "functions.services.calls": ["botocore"],
        "functions.services.queues": ["functions.store.aws_clients"],
        "functions.services.secret": ["aws_lambda_powertools.utilities.parameters"],
        "functions.events.typed": ["boto3"],
    }
