"""The benchmarks' shape: no import cycle between their modules, and each
module-level constant defined in one module only.

A script in benchmarks/ (or benchmarks/experiments/) imports the modules
beside it by their bare names, since Python puts the script's folder on
`sys.path`; those imports, at any depth of the code, are the edges here.
"""

import ast
import collections
import importlib.util
import pathlib

import pytest
from helpers import cycle_through

BENCHMARKS_DIR = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
FOLDERS = (BENCHMARKS_DIR, BENCHMARKS_DIR / "experiments")


def _modules(folder):
    return {path.stem: path for path in sorted(folder.glob("*.py"))}


def _imports(source, siblings):
    """The modules among `siblings` that the code `source` imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module]
        else:
            continue
        found.update(name for name in names if name in siblings)
    return found


GRAPHS = {
    folder.name: {
        name: _imports(path.read_text(), _modules(folder))
        for name, path in _modules(folder).items()
    }
    for folder in FOLDERS
}
MODULES = [(folder, name) for folder, graph in GRAPHS.items() for name in graph]


def _constants(path):
    """The upper-case names the file at `path` assigns at module level."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            names.update(
                name.id
                for name in ast.walk(target)
                if isinstance(name, ast.Name) and name.id.isupper()
            )
    return names


def test_the_walk_sees_the_imports_and_constants():
    """The premise: edges and definitions the suite is known to have are found,
    a function-level import among them."""
    suite = GRAPHS["benchmarks"]
    assert {"workers", "device_suite", "orchestration"} <= suite["benchmark"]
    assert "keras_measurements" in suite["workers"]
    assert "IMPLEMENTATIONS" in _constants(BENCHMARKS_DIR / "workers.py")
    function_level = "def f():\n    from device_suite import run_suite\n"
    assert _imports(function_level, {"device_suite", "report"}) == {"device_suite"}


@pytest.mark.parametrize("folder, module", MODULES)
def test_no_import_cycle(folder, module):
    cycle = cycle_through(GRAPHS[folder], module)
    assert cycle is None, " -> ".join(cycle)


def test_each_constant_is_defined_in_one_module():
    """`IMPLEMENTATIONS` and the like have one definition that the others
    import, so two lists of the same thing cannot drift apart."""
    where = collections.defaultdict(list)
    for name, path in _modules(BENCHMARKS_DIR).items():
        for constant in _constants(path):
            where[constant].append(name)
    repeated = {name: modules for name, modules in where.items() if len(modules) > 1}
    assert not repeated, f"defined in more than one module: {repeated}"


def test_experiments_find_the_repository_root():
    """A script moved one folder down still puts this checkout on `sys.path`."""
    path = BENCHMARKS_DIR / "experiments" / "compare_recipes.py"
    spec = importlib.util.spec_from_file_location("compare_recipes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.REPO_ROOT == BENCHMARKS_DIR.parent
