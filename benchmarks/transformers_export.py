"""An albert_mlm `AlbertMaskedLM` as a transformers `AlbertForMaskedLM` checkpoint.

albert_mlm reads transformers checkpoints and writes none; this writes one
by running its reader backwards: the reader's weight entries (our variable,
their keys) with each entry's `to_theirs`, except the fused query/key/value
projection, which is split back into transformers' three `Linear`s. The
result loads with `AlbertForMaskedLM.from_pretrained`, `AlbertTokenizer`
and `pipeline("fill-mask")`, and back into albert_mlm with `from_preset`.
transformers has one `layer_norm_eps` for the whole model, so the head's
layer norm gets the encoder's 1e-12 instead of our head's 1e-5 (on the
shipped preset, probabilities then differ in the sixth digit).
"""

import json
import shutil

import numpy as np


def write_transformers_checkpoint(masked_lm, vocabulary_file, directory):
    """Write `masked_lm` into the new `directory` as transformers'
    `AlbertForMaskedLM.save_pretrained` would, with `vocabulary_file` (its
    SentencePiece model) as `spiece.model`."""
    from safetensors.numpy import save_file

    from albert_mlm.presets import transformers_checkpoint as reader

    entries = reader._backbone_entries(masked_lm.backbone, "albert.")
    entries += reader._head_entries(masked_lm.masked_lm_head)
    tensors = {}
    for entry in entries:
        value = np.asarray(entry.variable.numpy())
        if len(entry.keys) == 3:  # Query, key and value: one fused Dense in ours.
            arrays = [part.T for part in np.split(value, 3, axis=-1)]
        else:
            arrays = entry.to_theirs(value)
        tensors.update(zip(entry.keys, map(np.ascontiguousarray, arrays)))
    directory.mkdir()
    save_file(tensors, str(directory / reader.SAFETENSORS_FILE), {"format": "pt"})
    config = reader.transformers_config(masked_lm.backbone.get_config())
    config.update(model_type="albert", architectures=["AlbertForMaskedLM"])
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    lowercase = masked_lm.preprocessor.tokenizer.lowercase
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": lowercase})
    )
    shutil.copy(vocabulary_file, directory / reader.VOCABULARY_FILE)
