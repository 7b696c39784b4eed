"""`save_to_preset`: write KerasHub's directory format, atomically.

Files are written into a temporary directory beside the target, which then
takes the target's place in one atomic exchange (Linux; elsewhere two
renames): an error or a crash midway leaves no half-written preset and an
existing preset untouched. Saving into an existing preset keeps its other
files (a tokenizer saved into a backbone's preset joins it). Refused: a
non-empty directory that is not a preset, a read-only directory, and a preset
with symbolic links to outside it (their targets would be copied in).
"""

import ctypes
import errno
import os
import secrets
import shutil

from albert_mlm.presets import keras_hub_config as hub
from albert_mlm.presets.handles import check_links
from albert_mlm.presets.keras_hub_weights import (
    backbone_weight_entries,
    head_weight_entries,
    write_keras_hub_weights,
)

_PRESET_MARKERS = hub.PRESET_FILES + (hub.METADATA_FILE,)


def _write_backbone(backbone, directory, extra_metadata=None):
    # Sharded weights from an earlier save would shadow nothing but mislead.
    for name in os.listdir(directory):
        if name == hub.SHARDED_BACKBONE_WEIGHTS_FILE or (
            name.startswith("model_") and name.endswith(".weights.h5")
        ):
            os.remove(os.path.join(directory, name))
    hub.write_json(directory, hub.CONFIG_FILE, hub.backbone_json(backbone))
    metadata = {**hub.metadata_json(backbone), **(extra_metadata or {})}
    hub.write_json(directory, hub.METADATA_FILE, metadata)
    write_keras_hub_weights(
        backbone_weight_entries(backbone),
        os.path.join(directory, hub.BACKBONE_WEIGHTS_FILE),
    )


def _write_tokenizer(tokenizer, directory):
    hub.write_json(directory, hub.TOKENIZER_FILE, hub.tokenizer_json(tokenizer))
    os.makedirs(os.path.join(directory, "assets", "tokenizer"), exist_ok=True)
    tokenizer.save_assets(os.path.join(directory, "assets", "tokenizer"))


def _write_preprocessor(preprocessor, directory):
    hub.write_json(
        directory, hub.PREPROCESSOR_FILE, hub.preprocessor_json(preprocessor)
    )
    _write_tokenizer(preprocessor.tokenizer, directory)


def _write_task(task, directory, extra_metadata=None):
    _write_backbone(task.backbone, directory, extra_metadata)
    hub.write_json(directory, hub.TASK_FILE, hub.task_json(task))
    write_keras_hub_weights(
        head_weight_entries(task), os.path.join(directory, hub.TASK_WEIGHTS_FILE)
    )
    if task.preprocessor is not None:
        _write_preprocessor(task.preprocessor, directory)


def _save_atomically(write, obj, preset_dir, **write_options):
    target = os.path.realpath(os.fspath(preset_dir))
    parent = os.path.dirname(target)
    existing = []
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise FileExistsError(f"{target!r} exists and is not a directory.")
        existing = os.listdir(target)
        if existing and not any(name in existing for name in _PRESET_MARKERS):
            raise ValueError(
                f"{target!r} is not empty and holds no preset; refusing to write "
                "a preset over it. Choose an empty or new directory."
            )
        _require_writable(target)
        # Its files are copied into the new preset: none may come from outside.
        check_links(target, target, target)
    else:
        os.makedirs(parent, exist_ok=True)
    _require_writable(parent)
    staging = _new_staging_directory(parent, os.path.basename(target))
    try:
        if existing:
            shutil.copytree(target, staging, dirs_exist_ok=True)
        write(obj, staging, **write_options)
        if os.path.exists(target):
            _exchange(staging, target)  # `staging` now holds the old preset.
            shutil.rmtree(staging, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _require_writable(directory):
    """Refuse a directory marked read-only, even to a superuser."""
    if not os.access(directory, os.W_OK) or not os.stat(directory).st_mode & 0o222:
        raise PermissionError(
            f"Cannot save a preset in {directory!r}: the directory is read-only."
        )


def _new_staging_directory(parent, name):
    """A fresh hidden directory beside the target (permissions from the umask,
    unlike `tempfile.mkdtemp`'s owner-only 0o700)."""
    while True:
        staging = os.path.join(parent, f".{name}.{secrets.token_hex(4)}.partial")
        try:
            os.mkdir(staging)
            return staging
        except FileExistsError:
            continue


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first, second):
    """Swap two directories: in one atomic step on Linux (`renameat2`), so a
    crash at any instant leaves `second` holding one complete preset."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        renameat2 = None
    if renameat2 is not None:
        renameat2.argtypes = [
            ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint
        ]  # fmt: skip
        paths = os.fsencode(first), os.fsencode(second)
        if renameat2(_AT_FDCWD, paths[0], _AT_FDCWD, paths[1], _RENAME_EXCHANGE) == 0:
            return
        error = ctypes.get_errno()
        if error not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(error, os.strerror(error), second)
    # Elsewhere two renames, with a brief moment where `second` is missing.
    retired = first + ".old"
    os.rename(second, retired)
    try:
        os.rename(first, second)
    except BaseException:
        os.rename(retired, second)
        raise
    os.rename(retired, first)


def save_backbone(backbone, preset_dir):
    _save_atomically(_write_backbone, backbone, preset_dir)


def save_tokenizer(tokenizer, preset_dir):
    _save_atomically(_write_tokenizer, tokenizer, preset_dir)


def save_preprocessor(preprocessor, preset_dir):
    _save_atomically(_write_preprocessor, preprocessor, preset_dir)


def save_task(task, preset_dir, extra_metadata=None):
    """Save a task; `extra_metadata` entries join `metadata.json`."""
    _save_atomically(_write_task, task, preset_dir, extra_metadata=extra_metadata)
