"""The package's shape: no import cycles, presets independent of the models,
modules small enough to read in one sitting."""

import ast
import pathlib

import pytest

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent / "albert_mlm"
MAX_MODULE_LINES = 350


def _module_name(path):
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _imports(module):
    """The package modules `module` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name if name in MODULES else node.module for name in names]
        else:
            continue
        found.update(name for name in names if name in MODULES)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _cycle_through(start):
    """A list of modules leading from `start` back to itself, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        module, path = stack.pop()
        for imported in GRAPH[module]:
            if imported == start:
                return path + [start]
            if imported not in seen:
                seen.add(imported)
                stack.append((imported, path + [imported]))
    return None


def test_the_walk_sees_the_imports():
    """The premise: edges the package is known to have are found."""
    assert "albert_mlm.presets.loading" in GRAPH["albert_mlm.models.albert_backbone"]
    assert "albert_mlm.cli.fill_mask_command" in GRAPH["albert_mlm.cli"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_cycle(module):
    assert _cycle_through(module) is None, " -> ".join(_cycle_through(module))


def test_presets_never_import_models_or_text():
    """Loaders receive the classes they build; they never import them."""
    for module, imported in GRAPH.items():
        if module.startswith("albert_mlm.presets"):
            reached = {
                name
                for name in imported
                if name.startswith(("albert_mlm.models", "albert_mlm.text"))
                or name == "albert_mlm"
            }
            assert not reached, f"{module} imports {sorted(reached)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_fits_in_one_sitting(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"


def test_every_package_is_installed_with_its_data():
    # `pip install .` (not editable) ships only what pyproject.toml lists.
    tomllib = pytest.importorskip("tomllib")
    with open(PACKAGE_DIR.parent / "pyproject.toml", "rb") as file:
        setuptools = tomllib.load(file)["tool"]["setuptools"]
    packages = {_module_name(path) for path in PACKAGE_DIR.rglob("__init__.py")}
    assert packages <= set(setuptools["packages"])
    presets_dir = PACKAGE_DIR.parent / setuptools["package-dir"]["albert_mlm_presets"]
    patterns = setuptools["package-data"]["albert_mlm_presets"]
    for notice in presets_dir.glob("*_LICENSE.txt"):
        assert any(notice.relative_to(presets_dir).match(p) for p in patterns)
