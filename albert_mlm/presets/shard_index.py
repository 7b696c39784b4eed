"""The shard files a sharded-weights index names, checked to sit beside it.

Keras (`model.weights.json`) and safetensors (`model.safetensors.index.json`)
both write a JSON object whose `"weight_map"` maps weights to shard file
names (Keras may give a list of shards per weight). A shard name must be a
plain file name beside the index: a path could reach outside the preset.

>>> import json, os, tempfile
>>> index = os.path.join(tempfile.mkdtemp(), "model.safetensors.index.json")
>>> with open(index, "w") as file:
...     json.dump({"weight_map": {"a": "part-2.safetensors",
...                               "b": "part-1.safetensors"}}, file)
>>> [os.path.basename(path) for path in shard_files(index, ".safetensors")]
['part-1.safetensors', 'part-2.safetensors']
"""

import json
import os


def is_plain_file_name(name):
    """True for a bare file name: no directory part, not `.` or `..`."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\\" not in name
        and os.path.basename(name) == name
    )


def shard_files(index_path, suffix=None):
    """Paths of the shards `index_path` names, sorted; each must be a plain
    file name (ending with `suffix`, when given)."""
    try:
        with open(index_path, encoding="utf-8") as file:
            weight_map = json.load(file)["weight_map"]
        values = list(weight_map.values())
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        kind = "a safetensors index" if suffix else "a sharded weights index"
        raise ValueError(
            f"{os.fspath(index_path)!r} is not {kind} (a JSON object with a "
            f"'weight_map' object): {type(error).__name__}: {error}"
        ) from None
    names = set()
    for value in values:
        names.update(value if isinstance(value, list) else [value])
    for name in names:
        if suffix and not (is_plain_file_name(name) and name.endswith(suffix)):
            raise ValueError(
                f"Shard name {name!r} in {os.fspath(index_path)!r} is not a plain "
                f"'{suffix}' file name beside the index; it could point outside "
                "the checkpoint."
            )
        if not is_plain_file_name(name):
            raise ValueError(
                f"Shard name {name!r} in {os.fspath(index_path)!r} is not a plain "
                "file name; shards must sit beside the index."
            )
    directory = os.path.dirname(os.fspath(index_path))
    return [os.path.join(directory, name) for name in sorted(names, key=str)]
