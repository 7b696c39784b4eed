"""`export_to_transformers`: our models as Hugging Face transformers checkpoints.

An `AlbertBackbone` becomes an `AlbertModel` (keys without the `albert.`
prefix, with the pooler), an `AlbertMaskedLM` an `AlbertForMaskedLM` (no
pooler; `predictions.*`) and an `AlbertPreTrainer` an `AlbertForPreTraining`
(pooler, `predictions.*` and `sop_classifier.classifier`). The folder holds
`config.json` and `model.safetensors` (float32, whatever the dtype policy),
and for a task with a preprocessor its tokenizer's files
(`transformers_tokenizer_export.py`), so `from_pretrained` and
`pipeline("fill-mask")` read it offline. The weights go through the
reader's entries (`transformers_checkpoint.py`), one name map both ways.

Nothing is silently different. Refused: a quantized model. Written with a
warning that states the measured difference: a masked-LM head whose layer
norm epsilon differs from the body's (transformers has one `layer_norm_eps`).
The folder is written atomically; it must be new, empty or an earlier export
(holding only the files an export writes, its `config.json` an ALBERT one).

>>> import tempfile
>>> from albert_mlm import AlbertBackbone
>>> backbone = AlbertBackbone(vocabulary_size=50, num_layers=2, num_heads=2,
...     embedding_dim=8, hidden_dim=16, intermediate_dim=32)
>>> directory = tempfile.mkdtemp()
>>> backbone.export_to_transformers(directory)
>>> sorted(os.listdir(directory))
['config.json', 'model.safetensors']
"""

import json
import os

import keras
import numpy as np

from albert_mlm.caller_warnings import warn_at_caller
from albert_mlm.presets.atomic_directory import replace_atomically, require_free_space
from albert_mlm.presets.lora_weights import lora_merged
from albert_mlm.presets.transformers_checkpoint import (
    SAFETENSORS_FILE,
    backbone_entries,
    head_entries,
    pooler_entries,
    sentence_order_entries,
    transformers_config,
)
from albert_mlm.presets.transformers_export_folder import (
    CONFIG_FILE,
    require_export_or_empty,
)
from albert_mlm.presets.transformers_tokenizer_export import write_tokenizer_files
from albert_mlm.quantization import refuse_quantized

# Our activation names -> transformers' `ACT2FN` names of the same function.
_ACTIVATIONS = {
    "gelu_approximate": "gelu_new",
    "gelu_new": "gelu_new",
    "gelu_fast": "gelu_fast",
    "gelu_pytorch_tanh": "gelu_pytorch_tanh",
    "gelu_accurate": "gelu_accurate",
    "gelu": "gelu",
    "gelu_python": "gelu_python",
    "relu": "relu",
}


def export_backbone(backbone, path):
    """Write `backbone` as a transformers `AlbertModel` into `path`."""
    _refuse_unexportable(backbone, backbone)
    entries = backbone_entries(backbone, "") + pooler_entries(backbone, "")
    config = _model_config(backbone, "AlbertModel")
    # Tokenizer files exported into the folder stay beside the new weights.
    _export(backbone, path, entries, config, keep_existing=True)


def export_task(task, path):
    """Write an `AlbertMaskedLM` as `AlbertForMaskedLM`, or one with a
    sentence-order head (`AlbertPreTrainer`) as `AlbertForPreTraining`, with
    its preprocessor's tokenizer files."""
    backbone = task.backbone
    _refuse_unexportable(task, backbone)
    entries = backbone_entries(backbone, "albert.")
    sentence_order_head = getattr(task, "sentence_order_head", None)
    if sentence_order_head is None:
        architecture = "AlbertForMaskedLM"
    else:
        architecture = "AlbertForPreTraining"
        entries += pooler_entries(backbone, "albert.")
        entries += sentence_order_entries(sentence_order_head)
    entries += head_entries(task.masked_lm_head)
    config = _model_config(backbone, architecture)
    tokenizer = task.preprocessor.tokenizer if task.preprocessor else None
    if tokenizer is not None:
        config.update(
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.cls_token_id,
            eos_token_id=tokenizer.sep_token_id,
        )

    def write_tokenizer(directory):
        if tokenizer is not None:
            sequence_length = task.preprocessor.sequence_length
            write_tokenizer_files(tokenizer, directory, sequence_length)

    _export(task, path, entries, config, write_tokenizer)
    if tokenizer is None:
        warn_at_caller(
            f"This {type(task).__name__} has no preprocessor: {path!r} got no "
            "tokenizer files, so transformers' pipelines cannot read text with "
            "it. Export the tokenizer into it with `export_to_transformers`."
        )
    _warn_head_epsilon(task)


def _refuse_unexportable(model, backbone):
    refuse_quantized(
        model,
        "export ... to transformers",
        "its checkpoints hold",
        "Export the float model.",
    )
    if backbone.activation not in _ACTIVATIONS:
        raise ValueError(
            f"Cannot export activation={backbone.activation!r} to transformers, "
            f"which has no name for it; expected one of {sorted(_ACTIVATIONS)}."
        )


def _model_config(backbone, architecture):
    """`config.json`: every `AlbertConfig` field our backbone determines."""
    config = transformers_config(backbone.get_config())
    config["hidden_act"] = _ACTIVATIONS[backbone.activation]
    config["classifier_dropout_prob"] = backbone.dropout
    return {
        "architectures": [architecture],
        "model_type": "albert",
        **config,
        "position_embedding_type": "absolute",
        "tie_word_embeddings": True,
        "dtype": "float32",
    }


def _float32_tensors(model, entries):
    """`{key: float32 array}` through each entry's `to_theirs`; a kernel
    with LoRA factors goes out with their update merged in."""
    tensors = {}
    for entry in lora_merged(entries, model):
        value = np.asarray(entry.variable.numpy(), dtype="float32")
        for key, array in zip(entry.keys, entry.to_theirs(value)):
            tensors[key] = np.ascontiguousarray(array, dtype="float32")
    return tensors


def _export(model, path, entries, config, write_more=None, keep_existing=False):
    """Write `config` and the `entries`' weights (and what `write_more`
    writes) into `path`, atomically; `keep_existing` keeps its other files."""
    try:
        from safetensors.numpy import save_file
    except ImportError:
        raise ImportError(
            "Exporting to transformers needs `safetensors`: "
            "pip install 'albert_mlm[hub]'"
        ) from None
    tensors = _float32_tensors(model, entries)

    def fill(staging):
        needed = sum(array.nbytes for array in tensors.values()) + 1_000_000
        require_free_space(staging, needed, f"{type(model).__name__}")
        with open(os.path.join(staging, CONFIG_FILE), "w", encoding="utf-8") as file:
            json.dump(config, file, indent=2, sort_keys=True)
            file.write("\n")
        save_file(tensors, os.path.join(staging, SAFETENSORS_FILE), {"format": "pt"})
        if write_more is not None:
            write_more(staging)

    replace_atomically(
        path, fill, keep_existing=keep_existing, check_existing=require_export_or_empty
    )


def _warn_head_epsilon(task):
    """Warn, with the measured difference, when the head's layer norm
    epsilon is not the body's: transformers has one `layer_norm_eps`."""
    head_epsilon = task.masked_lm_head.layer_norm_epsilon
    body_epsilon = task.backbone.layer_norm_epsilon
    if head_epsilon == body_epsilon:
        return
    probabilities, logits = head_epsilon_difference(task)
    warn_at_caller(
        "transformers has one layer_norm_eps for the whole model: the exported "
        f"masked-LM head uses the body's layer_norm_epsilon={body_epsilon:g} "
        f"instead of head_layer_norm_epsilon={head_epsilon:g}. On a fixed probe "
        "batch the exported model's masked-LM probabilities differ from this "
        f"model's by at most {probabilities:.3g} (logits by {logits:.3g})."
    )


def head_epsilon_difference(task):
    """`(max |probability difference|, max |logit difference|)` between the
    head with its own epsilon and with the body's, on a fixed probe batch:
    32 random unit-variance vectors, stand-ins for the encoder's
    layer-normalised outputs (running the encoder would cost a compilation
    per export on some backends)."""
    backbone, head = task.backbone, task.masked_lm_head
    probe = np.random.default_rng(0).standard_normal((2, 16, backbone.hidden_dim))
    transformed = _numpy(head.dense(probe.astype("float32")))
    gamma, beta = _numpy(head.layer_norm.gamma), _numpy(head.layer_norm.beta)
    embeddings, bias = _numpy(head.token_embedding.embeddings), _numpy(head.output_bias)

    def logits(epsilon):
        centred = transformed - transformed.mean(-1, keepdims=True)
        variance = (centred**2).mean(-1, keepdims=True)
        normalized = centred / np.sqrt(variance + epsilon) * gamma + beta
        return normalized @ embeddings.T + bias

    ours, theirs = logits(head.layer_norm_epsilon), logits(backbone.layer_norm_epsilon)
    return (
        float(np.abs(_softmax(ours) - _softmax(theirs)).max()),
        float(np.abs(ours - theirs).max()),
    )


def _numpy(x):
    return np.asarray(
        keras.ops.convert_to_numpy(keras.ops.cast(x, "float32")), "float64"
    )


def _softmax(logits):
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)
