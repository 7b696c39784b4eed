"""The presets a name reaches: the shipped ones, and the four published models.

Shipped presets are installed with the package (`presets/` in the source
tree) and work offline; `DEFAULT_PRESET` is the one the command line uses.
The four published English uncased ALBERT models download from Kaggle (where
KerasHub publishes them); their architectures ship here, so
`load_weights=False` needs no network.

>>> sorted(BUILT_IN_PRESETS)[0]
'albert_base_en_uncased'
"""

import json
import os

from albert_mlm.architectures import ARCHITECTURES

DEFAULT_PRESET = "albert_tiny_en_uncased"

_DESCRIPTIONS = {
    "albert_base_en_uncased": (12, 11_683_584, 5),
    "albert_large_en_uncased": (24, 17_683_968, 3),
    "albert_extra_large_en_uncased": (24, 58_724_864, 3),
    "albert_extra_extra_large_en_uncased": (12, 222_595_584, 3),
}

BUILT_IN_PRESETS = {
    name: {
        "description": (
            f"{layers}-layer ALBERT model where all input is lowercased. "
            "Trained on English Wikipedia + BooksCorpus."
        ),
        "parameter_count": parameter_count,
        "kaggle_handle": f"kaggle://keras/albert/keras/{name}/{version}",
        "architecture": ARCHITECTURES[name],
    }
    for name, (layers, parameter_count, version) in _DESCRIPTIONS.items()
}


def shipped_presets():
    """Presets installed with the package (`presets/` in the source tree)."""
    import importlib.resources

    try:
        root = importlib.resources.files("albert_mlm_presets")
    except ModuleNotFoundError:
        return {}
    return {
        entry.name: str(entry)
        for entry in root.iterdir()
        if entry.is_dir() and (entry / "config.json").is_file()
    }


def shipped_notices(directory):
    """The licence notices shipped beside a shipped preset (the
    `*_LICENSE.txt` files of the package's presets folder: the terms of its
    training data), as paths; `[]` for any other directory."""
    shipped = {os.path.realpath(path) for path in shipped_presets().values()}
    directory = os.path.realpath(directory)
    if directory not in shipped:
        return []
    parent = os.path.dirname(directory)
    return sorted(
        os.path.join(parent, name)
        for name in os.listdir(parent)
        if name.endswith("_LICENSE.txt")
    )


def _shipped_metadata(name, path):
    try:
        with open(os.path.join(path, "metadata.json"), encoding="utf-8") as file:
            parameter_count = json.load(file).get("parameter_count")
    except (OSError, ValueError):
        parameter_count = None
    return {
        "description": (
            "Small uncased English ALBERT model shipped with albert_mlm "
            "(works offline); see its README for how it was trained."
        ),
        "parameter_count": parameter_count,
        "path": path,
    }


# What `Class.presets` shows: each preset's description and size.
PRESETS_METADATA = {
    **{
        name: _shipped_metadata(name, path)
        for name, path in sorted(shipped_presets().items())
    },
    **{
        name: {key: value for key, value in info.items() if key != "architecture"}
        for name, info in BUILT_IN_PRESETS.items()
    },
}
