"""Write a masked LM as a TensorFlow SavedModel that fills `[MASK]` in raw
strings, for TF Serving or `tf.saved_model.load` with no Keras installed.

The SavedModel has one signature, `fill_mask` (also `serving_default`),
described in `fill_mask_signature.py`; `serving.json` beside it records
`top_k`, `max_masks`, `sequence_length` and the status codes. A client
imports `tensorflow_text` (which registers the SentencePiece op) first:

    import tensorflow as tf, tensorflow_text
    fill_mask = tf.saved_model.load(directory).signatures["fill_mask"]
    outputs = fill_mask(texts=tf.constant(["the [MASK] barked."]))

Writing is atomic (`atomic_directory.py`): an error leaves no half-written
directory, and an existing one is replaced only if it is one of ours (it
holds `serving.json` and SavedModel files only). Mixed-precision and
quantized (int8) models export as they compute. Models on jax or torch are
saved to a temporary preset and exported by `albert-mlm export` in a
tensorflow subprocess, as the graph needs TensorFlow tensors; a quantized
one is refused there (a preset holds float weights), as is a model without
a preprocessor anywhere.

Writing one (not run as a doctest: it writes a folder and, off tensorflow,
starts a process):

    masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
    export_for_serving(masked_lm, "served_albert", top_k=3)
"""

import json
import os
import subprocess
import sys
import tempfile

from albert_mlm.argument_checks import require_positive_int
from albert_mlm.presets.atomic_directory import replace_atomically
from albert_mlm.quantization import quantized_layers
from albert_mlm.serving.fill_mask_signature import STATUS_CODES, fill_mask_function

DEFAULT_MAX_MASKS = 8
"""The `[MASK]`s per text the per-mask outputs have room for, by default."""
MARKER_FILE = "serving.json"
_SAVED_MODEL_ENTRIES = {"saved_model.pb", "variables", "assets", "fingerprint.pb"}


def export_for_serving(masked_lm, directory, top_k=5, max_masks=DEFAULT_MAX_MASKS):
    """Write `masked_lm` to `directory` as a SavedModel with a `fill_mask`
    signature, on any backend (see the module's docstring).

    Args:
        masked_lm: an `AlbertMaskedLM` with a preprocessor.
        directory: the folder to write: new, empty, or an earlier export.
        top_k: candidates per mask, fixed in the SavedModel.
        max_masks: `[MASK]`s per text the outputs hold; a text with more
            gets status 3.
    """
    _check_exportable(masked_lm, top_k, max_masks)
    import keras

    if keras.backend.backend() == "tensorflow":
        write_saved_model(masked_lm, directory, top_k, max_masks)
        return
    quantized = quantized_layers(masked_lm)
    if quantized:
        raise ValueError(
            "A quantized model can be exported for serving on the tensorflow "
            f"backend only: on {keras.backend.backend()!r} it would travel "
            "through a preset, which holds float weights (quantized layers: "
            f"{[layer.name for layer in quantized][:3]}). Export the float model, "
            "or quantize it on tensorflow."
        )
    if os.path.isdir(directory):  # Refused before the preset is saved.
        _require_our_export(directory)
    _export_in_subprocess(masked_lm, directory, top_k, max_masks)


def write_saved_model(masked_lm, directory, top_k, max_masks):
    """`export_for_serving` in this process, on the tensorflow backend."""
    import keras

    _check_exportable(masked_lm, top_k, max_masks)
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "write_saved_model runs on the tensorflow backend; this process "
            f"uses {keras.backend.backend()!r} (use export_for_serving)."
        )
    if os.path.isdir(directory):  # Refused before the slow tracing, too.
        _require_our_export(directory)
    function = fill_mask_function(masked_lm, top_k, max_masks)
    # The endpoint brings the variables it reads; tracking the whole model
    # too would double the time `write_out` takes, walking every layer.
    archive = keras.export.ExportArchive()
    archive.add_endpoint("fill_mask", function)
    marker = {
        "signatures": ["fill_mask"],
        "top_k": top_k,
        "max_masks": max_masks,
        "sequence_length": masked_lm.preprocessor.sequence_length,
        "status_codes": {str(code): text for code, text in STATUS_CODES.items()},
    }

    def fill(staging):
        archive.write_out(staging, verbose=False)
        with open(os.path.join(staging, MARKER_FILE), "w", encoding="utf-8") as file:
            json.dump(marker, file, indent=2)

    replace_atomically(directory, fill, check_existing=_require_our_export)


def _check_exportable(masked_lm, top_k, max_masks):
    require_positive_int("top_k", top_k)
    require_positive_int("max_masks", max_masks)
    if getattr(masked_lm, "preprocessor", None) is None:
        raise ValueError(
            "export_for_serving needs a masked LM with a preprocessor (its "
            "tokenizer goes into the SavedModel); this one has none."
        )


def _require_our_export(directory):
    names = set(os.listdir(directory))
    foreign = names - _SAVED_MODEL_ENTRIES - {MARKER_FILE}
    if names and (MARKER_FILE not in names or foreign):
        raise FileExistsError(
            f"{directory!r} is not empty and is not a SavedModel written by "
            f"export_for_serving (it holds {sorted(names)[:5]}); choose a new "
            "or empty directory."
        )


def _export_in_subprocess(masked_lm, directory, top_k, max_masks):
    """Save a preset, then `albert-mlm export` it on tensorflow."""
    with tempfile.TemporaryDirectory(prefix="albert_mlm_export_") as temporary:
        preset = os.path.join(temporary, "preset")
        masked_lm.save_to_preset(preset)
        command = [
            sys.executable, "-m", "albert_mlm", "export", preset,
            os.fspath(directory), "--top-k", str(top_k),
            "--max-masks", str(max_masks),
        ]  # fmt: skip
        environment = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        done = subprocess.run(command, capture_output=True, text=True, env=environment)
    if done.returncode != 0:
        raise RuntimeError(
            f"Exporting to {os.fspath(directory)!r} on the tensorflow backend "
            f"failed (exit status {done.returncode}): {done.stderr.strip()[-600:]}"
        )
