"""Names every docstring example may use without importing them
(`pytest --doctest-modules albert_mlm`), as a notebook user has them."""

import keras
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update(np=np, keras=keras)


# Docstring examples of features a backend lacks: keras.distribution (device
# meshes, layout maps) exists on jax and tensorflow only.
_BACKEND_FEATURES = {"layout_map": ("jax", "tensorflow")}


def pytest_collection_modifyitems(items):
    backend = keras.backend.backend()
    for item in items:
        for feature, backends in _BACKEND_FEATURES.items():
            if item.name.endswith(feature) and backend not in backends:
                item.add_marker(
                    pytest.mark.skip(reason=f"{feature} needs one of {backends}")
                )
