"""Hugging Face transformers ALBERT checkpoints -> our models.

A checkpoint directory holds `config.json` (`"model_type": "albert"`),
`model.safetensors` or a sharded `model.safetensors.index.json`, and
`spiece.model`. Every class transformers saves is understood:
`AlbertForMaskedLM` (no pooler), `AlbertForPreTraining` (pooler, MLM head and
a sentence-order head, which we do not need) and `AlbertModel` (keys without
the `albert.` prefix, no MLM head). Parts a checkpoint lacks stay freshly
initialised, with a warning that says which.

>>> config = read_transformers_config("checkpoint/")
>>> backbone = AlbertBackbone(**backbone_arguments(config))
"""

import json
import os
import warnings

from albert_mlm.presets.handles import is_plain_file_name
from albert_mlm.presets.weight_entries import (
    WeightEntry,
    assign_staged,
    stage_entries,
    transposed,
)

SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
VOCABULARY_FILE = "spiece.model"


def is_transformers_config(config):
    return isinstance(config, dict) and "model_type" in config


def read_transformers_config(config, source):
    """Check a parsed `config.json` is ALBERT's; return it."""
    if config.get("model_type") != "albert":
        raise ValueError(
            f"{source} is a transformers checkpoint of model_type "
            f"{config.get('model_type')!r}; expected 'albert'."
        )
    embedding_type = config.get("position_embedding_type", "absolute")
    if embedding_type != "absolute":
        raise ValueError(
            f"{source} uses position_embedding_type={embedding_type!r}; only "
            "'absolute' position embeddings are supported."
        )
    return config


_REQUIRED_KEYS = (
    "vocab_size",
    "num_hidden_layers",
    "num_attention_heads",
    "embedding_size",
    "hidden_size",
    "intermediate_size",
)


def backbone_arguments(config, source="The checkpoint's config.json"):
    """`AlbertBackbone` keyword arguments for a transformers `AlbertConfig`."""
    missing = [key for key in _REQUIRED_KEYS if key not in config]
    if missing:
        raise ValueError(f"{source} lacks the AlbertConfig keys {missing}.")
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "embedding_dim": config["embedding_size"],
        "hidden_dim": config["hidden_size"],
        "intermediate_dim": config["intermediate_size"],
        "num_groups": config.get("num_hidden_groups", 1),
        "num_inner_repetitions": config.get("inner_group_num", 1),
        "dropout": config.get("hidden_dropout_prob", 0.0),
        "max_sequence_length": config.get("max_position_embeddings", 512),
        "num_segments": config.get("type_vocab_size", 2),
        "activation": config.get("hidden_act", "gelu_new"),
        "layer_norm_epsilon": config.get("layer_norm_eps", 1e-12),
    }


def masked_lm_arguments(config):
    """Extra `AlbertMaskedLM` keyword arguments for a transformers config."""
    return {"head_layer_norm_epsilon": config.get("layer_norm_eps", 1e-12)}


def tokenizer_lowercase(directory):
    """`do_lower_case` from `tokenizer_config.json`, True when absent."""
    path = os.path.join(directory, "tokenizer_config.json")
    if not os.path.isfile(path):
        return True
    try:
        with open(path, encoding="utf-8") as file:
            value = json.load(file).get("do_lower_case", True)
    except (ValueError, AttributeError) as error:
        raise ValueError(
            f"{path!r} is not a JSON object ({type(error).__name__}: {error})."
        ) from None
    if not isinstance(value, bool):
        raise ValueError(
            f"'do_lower_case' in {path!r} must be true or false. Received: {value!r}"
        )
    return value


class SafetensorsCheckpoint:
    """Read-only access to the tensors of a (possibly sharded) checkpoint."""

    def __init__(self, directory):
        self.directory = directory
        index_path = os.path.join(directory, SAFETENSORS_INDEX_FILE)
        single_path = os.path.join(directory, SAFETENSORS_FILE)
        if os.path.isfile(single_path):
            self.files = [SAFETENSORS_FILE]
        elif os.path.isfile(index_path):
            self.files = _shard_names(index_path)
        elif os.path.isfile(os.path.join(directory, "pytorch_model.bin")):
            raise ValueError(
                f"{directory!r} holds only pytorch_model.bin, a pickle file that "
                "can run arbitrary code when loaded; it is refused. Convert it "
                "to safetensors (transformers: `model.save_pretrained(dir, "
                "safe_serialization=True)`) and load that."
            )
        else:
            raise FileNotFoundError(
                f"No {SAFETENSORS_FILE} or {SAFETENSORS_INDEX_FILE} in the "
                f"transformers checkpoint {directory!r}."
            )
        self.tensors = {}
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise ImportError(
                "Reading transformers checkpoints needs `safetensors`: "
                "pip install 'albert_mlm[hub]'"
            ) from None
        for name in self.files:
            path = os.path.join(directory, name)
            try:
                self.tensors.update(load_file(path))
            except Exception as error:
                raise ValueError(
                    f"{path!r} is not a readable safetensors file ({error})."
                ) from None
        self.prefix = (
            "albert." if any(key.startswith("albert.") for key in self.tensors) else ""
        )

    def get(self, key):
        return self.tensors.get(key)

    def has(self, key):
        return key in self.tensors


def _shard_names(index_path):
    """The shard files a `model.safetensors.index.json` names, checked to be
    plain file names beside it (symbolic links are checked by the loader)."""
    try:
        with open(index_path, encoding="utf-8") as file:
            names = sorted(set(json.load(file)["weight_map"].values()), key=str)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{index_path!r} is not a safetensors index (a JSON object with a "
            f"'weight_map' object): {type(error).__name__}: {error}"
        ) from None
    for name in names:
        if not is_plain_file_name(name) or not name.endswith(".safetensors"):
            raise ValueError(
                f"Shard name {name!r} in {index_path!r} is not a plain "
                "'.safetensors' file name beside the index; it could point "
                "outside the checkpoint."
            )
    return names


def _layer_norm(prefix, layer_norm):
    return [
        WeightEntry((f"{prefix}.weight",), layer_norm.gamma),
        WeightEntry((f"{prefix}.bias",), layer_norm.beta),
    ]


def _linear(prefix, dense):
    return [
        transposed(f"{prefix}.weight", dense.kernel),
        WeightEntry((f"{prefix}.bias",), dense.bias),
    ]


def _block_entries(prefix, block):
    attention = block.attention
    projections = [f"{prefix}.attention.{name}" for name in ("query", "key", "value")]

    def fuse_kernels(arrays):
        import numpy as np

        return np.concatenate([a.T for a in arrays], axis=1)

    def fuse_biases(arrays):
        import numpy as np

        return np.concatenate(arrays)

    return [
        WeightEntry(
            tuple(f"{p}.weight" for p in projections),
            attention.query_key_value_dense.kernel,
            fuse_kernels,
        ),
        WeightEntry(
            tuple(f"{p}.bias" for p in projections),
            attention.query_key_value_dense.bias,
            fuse_biases,
        ),
        *_linear(f"{prefix}.attention.dense", attention.output_dense),
        *_layer_norm(f"{prefix}.attention.LayerNorm", block.attention_layer_norm),
        *_linear(f"{prefix}.ffn", block.intermediate_dense),
        *_linear(f"{prefix}.ffn_output", block.output_dense),
        *_layer_norm(f"{prefix}.full_layer_layer_norm", block.output_layer_norm),
    ]


def _backbone_entries(backbone, prefix):
    embeddings = f"{prefix}embeddings"
    entries = [
        WeightEntry(
            (f"{embeddings}.word_embeddings.weight",),
            backbone.token_embedding.embeddings,
        ),
        WeightEntry(
            (f"{embeddings}.position_embeddings.weight",),
            backbone.position_embedding.position_embeddings,
        ),
        WeightEntry(
            (f"{embeddings}.token_type_embeddings.weight",),
            backbone.segment_embedding.embeddings,
        ),
        *_layer_norm(f"{embeddings}.LayerNorm", backbone.embeddings_layer_norm),
        *_linear(
            f"{prefix}encoder.embedding_hidden_mapping_in",
            backbone.embeddings_projection,
        ),
    ]
    for group_index, group in enumerate(backbone.groups):
        for inner_index, block in enumerate(group):
            entries += _block_entries(
                f"{prefix}encoder.albert_layer_groups.{group_index}"
                f".albert_layers.{inner_index}",
                block,
            )
    return entries


def _head_entries(masked_lm):
    head = masked_lm.masked_lm_head
    return [
        *_linear("predictions.dense", head.dense),
        *_layer_norm("predictions.LayerNorm", head.layer_norm),
        WeightEntry(("predictions.bias",), head.output_bias),
    ]


def load_transformers_weights(model, directory):
    """Fill an `AlbertBackbone` or `AlbertMaskedLM` from a checkpoint directory.

    Missing parts (the pooler of `AlbertForMaskedLM`, the MLM head of
    `AlbertModel`) stay as initialised, with a `UserWarning` naming them.
    Nothing is assigned unless every present weight fits.
    """
    checkpoint = SafetensorsCheckpoint(directory)
    backbone = getattr(model, "backbone", model)
    prefix = checkpoint.prefix
    entries = _backbone_entries(backbone, prefix)
    fresh = []
    if checkpoint.has(f"{prefix}pooler.weight"):
        entries += _linear(f"{prefix}pooler", backbone.pooled_dense)
    else:
        fresh.append("the pooler (pooled_dense)")
    if backbone is not model:
        if checkpoint.has("predictions.dense.weight"):
            entries += _head_entries(model)
        else:
            fresh.append("the masked-LM head (mlm_head)")
    source = f"Checkpoint {directory!r}"
    assign_staged(stage_entries(entries, checkpoint.get, source))
    if fresh:
        warnings.warn(
            f"{source} has no weights for {' and '.join(fresh)}; they keep "
            "their fresh random initialisation.",
            stacklevel=3,
        )
