"""The package's shape: no import cycles between modules or sub-packages,
sub-packages that depend one way, presets independent of the models, modules
small enough to read in one sitting."""

import ast
import pathlib

import pytest
from helpers import cycle_through

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent / "albert_mlm"
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


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


def test_the_walk_sees_the_imports():
    """The premise: edges the package is known to have are found."""
    assert "albert_mlm.presets.loading" in GRAPH["albert_mlm.models.albert_backbone"]
    assert "albert_mlm.cli.fill_mask_command" in GRAPH["albert_mlm.cli"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_cycle(module):
    assert cycle_through(GRAPH, module) is None, " -> ".join(
        cycle_through(GRAPH, module)
    )


# The sub-packages, lowest first: each imports only from its own layer and
# those before it. "base" is the top-level helpers (argument_checks,
# architectures, version, native_logs); "api" is the package's public face
# (`albert_mlm`, which imports its classes lazily and which the command line
# uses); "main" is `python -m albert_mlm`. Inference sits below the models
# because `AlbertMaskedLM.fill_mask` and `score` call it; it never imports a
# model. Serving (a TensorFlow SavedModel of a task) sits below the models
# for the same reason: `AlbertMaskedLM.export_for_serving` calls it.
LAYERS = (
    "base",
    "presets",
    "layers",
    "text",
    "datasets",
    "inference",
    "serving",
    "models",
    "training",
    "api",
    "cli",
    "main",
)


def _layer(module):
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    if parts[1] == "__main__":
        return "main"
    is_package = (PACKAGE_DIR / parts[1] / "__init__.py").exists()
    return parts[1] if is_package else "base"


def _layer_edges():
    """`{(importer's layer, imported's layer): [module -> module, ...]}`."""
    edges = {}
    for module, imported in GRAPH.items():
        for name in imported:
            if _layer(name) != _layer(module):
                edges.setdefault((_layer(module), _layer(name)), []).append(
                    f"{module} -> {name}"
                )
    return edges


def test_every_sub_package_has_a_layer():
    assert {_layer(module) for module in MODULES} <= set(LAYERS)


def test_no_cycle_between_sub_packages():
    edges = _layer_edges()
    reach = {layer: {b for a, b in edges if a == layer} for layer in LAYERS}
    for _ in LAYERS:  # The transitive closure, one step a round.
        reach = {a: bs.union(*(reach[b] for b in bs)) for a, bs in reach.items()}
    cyclic = sorted(layer for layer in LAYERS if layer in reach[layer])
    assert not cyclic, {
        pair: found for pair, found in edges.items() if set(pair) <= set(cyclic)
    }


def test_sub_packages_depend_downward():
    upward = {
        pair: found
        for pair, found in _layer_edges().items()
        if LAYERS.index(pair[1]) > LAYERS.index(pair[0])
    }
    assert not upward, upward


def test_the_layer_checks_see_an_upward_import(monkeypatch):
    """The premise: a models module importing training would be caught."""
    monkeypatch.setitem(
        GRAPH,
        "albert_mlm.models.albert_pretrainer",
        GRAPH["albert_mlm.models.albert_pretrainer"]
        | {"albert_mlm.training.pretraining_data"},
    )
    assert ("models", "training") in _layer_edges()
    with pytest.raises(AssertionError, match="models.albert_pretrainer -> albert_mlm"):
        test_sub_packages_depend_downward()
    with pytest.raises(AssertionError, match="training"):
        test_no_cycle_between_sub_packages()


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


def _long_functions(source):
    """`name (lines)` of each function in `source` over the limit, counted
    from its `def` to its last line, docstring included."""
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_functions_fit_in_one_view(module):
    assert not _long_functions(MODULES[module].read_text()), module


def test_a_long_function_is_seen():
    body = "".join(f"    x{line} = {line}\n" for line in range(MAX_FUNCTION_LINES))
    assert _long_functions(f"def long():\n{body}") == ["long (61 lines)"]
    assert _long_functions(f"def short():\n{body[: body.rindex('    x')]}") == []


def test_every_package_is_installed_with_its_data():
    # `pip install .` (not editable) ships only what pyproject.toml lists.
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI.
        import tomli as tomllib
    with open(PACKAGE_DIR.parent / "pyproject.toml", "rb") as file:
        setuptools = tomllib.load(file)["tool"]["setuptools"]
    packages = {_module_name(path) for path in PACKAGE_DIR.rglob("__init__.py")}
    assert packages <= set(setuptools["packages"])
    presets_dir = PACKAGE_DIR.parent / setuptools["package-dir"]["albert_mlm_presets"]
    patterns = setuptools["package-data"]["albert_mlm_presets"]
    for notice in presets_dir.glob("*_LICENSE.txt"):
        assert any(notice.relative_to(presets_dir).match(p) for p in patterns)


TESTS_DIR = PACKAGE_DIR.parent / "tests"
# Tests at the top of tests/: those of the top-level modules, and the ones
# that cut across every package (bad inputs, the package's shape, the docs).
TOP_LEVEL_TESTS = {
    "test_bad_inputs.py",
    "test_native_logs.py",
    "test_keras_hub_surface.py",
    "test_package_structure.py",
    "test_readme.py",
}


def test_tests_mirror_the_package():
    folders = {path.name for path in TESTS_DIR.iterdir() if path.is_dir()}
    folders -= {"data", "__pycache__"}
    sub_packages = {path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py")}
    assert folders <= sub_packages | {"benchmarks", "tools"}, folders - sub_packages
    top_level = {path.name for path in TESTS_DIR.glob("test_*.py")}
    assert top_level <= TOP_LEVEL_TESTS, top_level - TOP_LEVEL_TESTS
    names = [path.name for path in TESTS_DIR.rglob("test_*.py")]
    # pytest imports test files by name: two of one name would collide.
    assert len(names) == len(set(names))
