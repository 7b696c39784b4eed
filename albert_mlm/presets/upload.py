"""`upload_preset`: publish a preset directory on Kaggle or the Hugging Face Hub.

`kaggle://owner/model/keras/variation` goes through `kagglehub.model_upload`
(a new variation, or a new version of an existing one); `hf://owner/name`
through `huggingface_hub`: the repository is created if needed and the files
go up in one commit, with a model card (`model_card.py`) as `README.md`
where neither the folder nor the repository has one. The clients' own
credentials are used (`HF_TOKEN` or `hf auth login`; `KAGGLE_USERNAME` and
`KAGGLE_KEY`, or `~/.kaggle/kaggle.json`).

Everything is checked before the first request: the handle, the client
package, and that the folder is a complete preset whose weights are readable
HDF5 and whose `config.json` is an ALBERT backbone's. Training checkpoints
(`checkpoints/`) and hidden files stay behind.

>>> upload_preset("hf://someone", "albert_tiny_en_uncased")
Traceback (most recent call last):
...
ValueError: Invalid upload handle 'hf://someone': expected 'hf://owner/name' or ...
"""

import contextlib
import os
import shutil
import tempfile

from albert_mlm.presets import keras_hub_config as hub
from albert_mlm.presets.handles import _HANDLE_PART, HF_PREFIX, KAGGLE_PREFIX
from albert_mlm.presets.model_card import licence_id, model_card
from albert_mlm.presets.registry import shipped_notices
from albert_mlm.version import __version__

_EXPECTED_HANDLES = "'hf://owner/name' or 'kaggle://owner/model/keras/variation'"
# Files and folders of a preset directory that are not published.
_LEFT_BEHIND = ("checkpoints/", ".*", "*/.*")
# Backbone arguments without a default: a config lacking one cannot load.
_REQUIRED_ARGUMENTS = (
    "vocabulary_size", "num_layers", "num_heads", "embedding_dim", "hidden_dim",
    "intermediate_dim",
)  # fmt: skip
# Kaggle's names of the licences `model_card.licence_id` recognises.
_KAGGLE_LICENCES = {"apache-2.0": "Apache 2.0", "mit": "MIT"}


def parse_upload_handle(uri):
    """`("hf", "owner/name")` or `("kaggle", "owner/model/keras/variation")`."""
    for hub_name, prefix, parts_count in (
        ("hf", HF_PREFIX, 2),
        ("kaggle", KAGGLE_PREFIX, 4),
    ):
        if not isinstance(uri, str) or not uri.startswith(prefix):
            continue
        handle = uri[len(prefix) :]
        parts = handle.split("/")
        valid = len(parts) == parts_count and all(
            _HANDLE_PART.match(part) and part not in (".", "..") for part in parts
        )
        if valid and (hub_name == "hf" or parts[2] == "keras"):
            return hub_name, handle
    raise ValueError(
        f"Invalid upload handle {uri!r:.200}: expected {_EXPECTED_HANDLES} (parts "
        "of letters, digits, '_', '-' and '.')."
    )


def _missing_files(directory):
    required = [hub.CONFIG_FILE, hub.TOKENIZER_FILE, hub.VOCABULARY_PATH]
    required.append(hub.METADATA_FILE)
    # KerasHub's sharded backbone weights: an index instead of one file.
    if not os.path.isfile(os.path.join(directory, hub.SHARDED_BACKBONE_WEIGHTS_FILE)):
        required.append(hub.BACKBONE_WEIGHTS_FILE)
    if os.path.isfile(os.path.join(directory, hub.TASK_FILE)):
        required += [hub.TASK_WEIGHTS_FILE, hub.PREPROCESSOR_FILE]
    return [
        name for name in required if not os.path.isfile(os.path.join(directory, name))
    ]


def _check_weights(directory):
    import h5py

    for name in sorted(os.listdir(directory)):
        if not name.endswith(".weights.h5"):
            continue
        try:
            with h5py.File(os.path.join(directory, name), "r") as weights:
                list(weights.keys())
        except (OSError, ValueError) as error:
            raise ValueError(
                f"{name} in {directory!r} is not a readable HDF5 weights file "
                f"({error}); expected the weights `save_to_preset` writes."
            ) from None


def _check_config(directory):
    config = hub.read_json(directory, hub.CONFIG_FILE, directory)
    source = f"config.json of {directory!r}"
    if isinstance(config, dict) and "model_type" in config:
        raise ValueError(
            f"{source} is a transformers checkpoint's (model_type "
            f"{config['model_type']!r:.40}); expected a KerasHub preset. Convert "
            "it first: albert-mlm convert DIR PRESET_DIR."
        )
    arguments = config.get("config") if isinstance(config, dict) else None
    registered = str(config.get("registered_name")) if arguments else ""
    if (
        not isinstance(arguments, dict)
        or config.get("class_name") != "AlbertBackbone"
        or registered.split(">")[0] not in ("keras_hub", "keras_nlp", "albert_mlm")
    ):
        raise ValueError(
            f"{source} does not describe an ALBERT backbone; expected class_name "
            "'AlbertBackbone' registered under keras_hub or albert_mlm, as "
            "`save_to_preset` writes."
        )
    invalid = [
        name
        for name in _REQUIRED_ARGUMENTS
        if not isinstance(arguments.get(name), int)
        or isinstance(arguments.get(name), bool)
        or arguments[name] < 1
    ]
    if invalid:
        raise ValueError(
            f"{source} lacks valid values for {', '.join(invalid)}; expected "
            "positive integers."
        )


def check_preset_directory(preset_dir):
    """Refuse, with one error, a folder that is not a complete preset."""
    directory = os.fspath(preset_dir)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Preset directory {directory!r} does not exist or is not a directory."
        )
    missing = _missing_files(directory)
    if missing:
        raise ValueError(
            f"{directory!r} is not a complete preset: it lacks {', '.join(missing)}. "
            "Save one with `save_to_preset` or `albert-mlm convert`."
        )
    _check_weights(directory)
    _check_config(directory)


def _import_client(hub_name, uri):
    package = {"hf": "huggingface_hub", "kaggle": "kagglehub"}[hub_name]
    try:
        return __import__(package)
    except ImportError:
        raise ImportError(
            f"Uploading to {uri!r} needs `{package}`: pip install 'albert_mlm[hub]'"
        ) from None


def published_files(directory):
    """The files that go up, as paths relative to `directory` with '/'."""
    found = []
    for folder, subfolders, files in os.walk(directory):
        relative = os.path.relpath(folder, directory)
        if relative == ".":
            subfolders[:] = [name for name in subfolders if name != "checkpoints"]
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = os.path.normpath(os.path.join(relative, name))
                found.append(path.replace(os.sep, "/"))
    return found


def _upload_to_hf(client, repository, directory, uri, commit_message):
    api = client.HfApi()
    url = api.create_repo(repository, exist_ok=True)
    files = published_files(directory)
    operations = [
        client.CommitOperationAdd(path, os.path.join(directory, path)) for path in files
    ]
    # A card the folder brings, or one the repository has, is kept as it is.
    if "README.md" not in files and not api.file_exists(repository, "README.md"):
        card = model_card(directory, uri).encode("utf-8")
        operations.append(client.CommitOperationAdd("README.md", card))
    api.create_commit(repository, operations, commit_message=commit_message)
    return str(url)


def _upload_to_kaggle(client, handle, directory, version_notes):
    client.model_upload(
        handle,
        directory,
        license_name=_KAGGLE_LICENCES.get(licence_id(directory)),
        version_notes=version_notes,
        ignore_patterns=list(_LEFT_BEHIND),
    )
    return f"https://www.kaggle.com/models/{handle}"


def upload_preset(uri, preset_dir, version_notes=None):
    """Publish the preset in `preset_dir` at `uri`; returns its web address.

    Args:
        uri: `hf://owner/name` (a Hugging Face model repository, created if
            needed) or `kaggle://owner/model/keras/variation`.
        preset_dir: a preset directory, as `save_to_preset` writes.
        version_notes: the Kaggle version notes, and the Hugging Face commit
            message; by default "albert_mlm <version> preset".

    Example (a folder that is not a preset is refused before any request):
    >>> import tempfile
    >>> upload_preset("hf://someone/albert", tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    ValueError: '...' is not a complete preset: it lacks config.json, ...
    """
    hub_name, handle = parse_upload_handle(uri)
    directory = os.fspath(preset_dir)
    check_preset_directory(directory)
    client = _import_client(hub_name, uri)
    notes = version_notes or f"albert_mlm {__version__} preset"
    with _with_shipped_notices(directory) as folder:
        if hub_name == "hf":
            return _upload_to_hf(client, handle, folder, uri, notes)
        return _upload_to_kaggle(client, handle, folder, notes)


@contextlib.contextmanager
def _with_shipped_notices(directory):
    """`directory`, or for a shipped preset a temporary copy holding the
    licence notices shipped beside it, which must travel with it."""
    notices = shipped_notices(directory)
    if not notices:
        yield directory
        return
    with tempfile.TemporaryDirectory() as scratch:
        copy = os.path.join(scratch, os.path.basename(os.path.normpath(directory)))
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("checkpoints"))
        for path in notices:
            shutil.copy(path, copy)
        yield copy
