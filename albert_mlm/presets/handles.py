"""Turn a preset handle into a local directory.

A handle is a built-in name (`albert_base_en_uncased`), a Kaggle model handle
(`kaggle://owner/model/framework/variation[/version]`, via `kagglehub` and
its cache), a Hugging Face repository (`hf://owner/name`, via
`huggingface_hub` and its cache), or a local directory.

Preset content never leads outside its directory: handles cannot step out
of a hub's cache, shard names must be plain file names, and symbolic links
must stay inside the preset (or, for a Hugging Face cache snapshot, inside
the repository's folder, whose snapshots link to its `blobs/`).

>>> import os
>>> resolve_preset(".") == "."
True
>>> os.path.basename(resolve_preset("albert_tiny_en_uncased"))
'albert_tiny_en_uncased'
"""

import os
import re

from albert_mlm.presets.registry import BUILT_IN_PRESETS, shipped_presets

KAGGLE_PREFIX = "kaggle://"
HF_PREFIX = "hf://"
_HANDLE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def _check_parts(preset, parts, expected):
    """Reject handles that could step outside the hub's cache (`..`, `/x`)."""
    if not expected[0] <= len(parts) <= expected[1] or not all(
        _HANDLE_PART.match(part) and part not in (".", "..") for part in parts
    ):
        raise ValueError(
            f"Invalid preset handle {preset!r}: expected "
            + (
                "'kaggle://owner/model/framework/variation[/version]'"
                if preset.startswith(KAGGLE_PREFIX)
                else "'hf://owner/name'"
            )
            + " with parts of letters, digits, '_', '-' and '.' only."
        )


def _download_failed(preset, handle, error):
    shipped = ", ".join(repr(name) for name in sorted(shipped_presets()))
    offline = f" The shipped preset {shipped} works offline." if shipped else ""
    return OSError(
        f"Could not download preset {preset!r} from {handle} "
        f"({type(error).__name__}: {str(error)[:200]}). Without network access, "
        "download it elsewhere and pass its local directory, e.g. "
        f"from_preset('/path/to/preset').{offline}"
    )


def _kaggle_download(preset, handle):
    parts = handle.split("/")
    _check_parts(preset, parts, (4, 5))
    if len(parts) == 5 and not parts[4].isdigit():
        raise ValueError(
            f"Invalid preset handle {preset!r}: the version must be a number."
        )
    try:
        import kagglehub
    except ImportError:
        raise ImportError(
            f"Loading {preset!r} needs `kagglehub`: pip install 'albert_mlm[hub]'"
        ) from None
    try:
        return kagglehub.model_download(handle)
    except Exception as error:
        raise _download_failed(preset, KAGGLE_PREFIX + handle, error) from None


def _hf_download(preset, repository):
    _check_parts(preset, repository.split("/"), (2, 2))
    try:
        import huggingface_hub
    except ImportError:
        raise ImportError(
            f"Loading {preset!r} needs `huggingface_hub`: pip install 'albert_mlm[hub]'"
        ) from None
    try:
        return huggingface_hub.snapshot_download(
            repository,
            allow_patterns=["*.json", "*.safetensors", "*.model", "*.h5", "*.spm"],
        )
    except Exception as error:
        raise _download_failed(preset, HF_PREFIX + repository, error) from None


def resolve_preset(preset):
    """The local directory holding `preset`, downloading it if needed."""
    if not isinstance(preset, str | os.PathLike):
        raise TypeError(
            "`preset` must be a preset name, a kaggle:// or hf:// handle, or a "
            f"directory path. Received: {type(preset).__name__}"
        )
    preset = os.fspath(preset)
    shipped = shipped_presets()
    if preset in shipped:
        return shipped[preset]
    if preset in BUILT_IN_PRESETS:
        handle = BUILT_IN_PRESETS[preset]["kaggle_handle"]
        return _kaggle_download(preset, handle[len(KAGGLE_PREFIX) :])
    if preset.startswith(KAGGLE_PREFIX):
        return _kaggle_download(preset, preset[len(KAGGLE_PREFIX) :])
    if preset.startswith(HF_PREFIX):
        return _hf_download(preset, preset[len(HF_PREFIX) :])
    if os.path.isdir(preset):
        return preset
    if os.path.isfile(preset):
        raise ValueError(
            f"Preset {preset!r} is a file; `from_preset` takes a preset "
            "directory (config.json and weights). A `.keras` file loads with "
            "`keras.saving.load_model`, which keeps `safe_mode=True`."
        )
    if os.sep not in preset and "/" not in preset and not os.path.exists(preset):
        raise ValueError(
            f"Unknown preset {preset!r}. Built-in presets: "
            f"{', '.join(sorted(BUILT_IN_PRESETS) + sorted(shipped))}; or pass "
            "a kaggle:// or hf:// handle or a local directory."
        )
    raise FileNotFoundError(f"Preset directory {preset!r} does not exist.")


def preset_root(directory):
    """The folder every file of `directory` must resolve inside.

    The directory itself, except for a Hugging Face cache snapshot
    (`.../models--owner--name/snapshots/<commit>`, from `hf://` or passed as
    a path), whose files are links into the repository folder's `blobs/`.
    """
    directory = os.path.realpath(directory)
    snapshots = os.path.dirname(directory)
    repository = os.path.dirname(snapshots)
    if os.path.basename(snapshots) == "snapshots" and os.path.basename(
        repository
    ).startswith("models--"):
        return repository
    return directory


def check_links(directory, root, preset):
    """Refuse a preset holding a symbolic link that resolves outside `root`."""
    root = os.path.realpath(root)
    for folder, subfolders, files in os.walk(directory):
        for name in subfolders + files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if os.path.commonpath([root, target]) != root:
                raise ValueError(
                    f"Preset {preset!r} holds a symbolic link "
                    f"{os.path.relpath(path, directory)!r} to {target!r}, "
                    f"outside {root!r}; refusing to read through it."
                )
