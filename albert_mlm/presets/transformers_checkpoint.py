"""Reading Hugging Face transformers ALBERT checkpoints.

A checkpoint directory holds `config.json` (`"model_type": "albert"`),
`model.safetensors` or a sharded `model.safetensors.index.json`, and
`spiece.model`. Every class transformers saves is understood:
`AlbertForMaskedLM` (no pooler), `AlbertForPreTraining` (pooler, MLM head and
a sentence-order head, which a masked LM does not need) and `AlbertModel`
(keys without the `albert.` prefix, no MLM head). Parts a checkpoint lacks
stay freshly initialised, with a warning that says which. The entry lists
(`backbone_entries`, ...) are the one name map both ways: the exporter
(`transformers_export.py`) writes through each entry's `to_theirs`.

>>> arguments = backbone_arguments({"vocab_size": 30000, "num_hidden_layers": 12,
...     "num_attention_heads": 12, "embedding_size": 128, "hidden_size": 768,
...     "intermediate_size": 3072})
>>> transformers_config(arguments)["hidden_act"]
'gelu_new'
"""

import json
import os

import numpy as np

from albert_mlm.caller_warnings import warn_at_caller
from albert_mlm.presets.preset_reader import PresetReader
from albert_mlm.presets.shard_index import shard_files
from albert_mlm.presets.weight_entries import (
    WeightEntry,
    assign_staged,
    dense_entries,
    layer_norm_entries,
    refuse_extra_blocks,
    stage_entries,
)

SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
VOCABULARY_FILE = "spiece.model"

# `AlbertConfig` key -> our `AlbertBackbone` argument, and transformers'
# default where the key may be absent (None: required).
_CONFIG_KEYS = {
    "vocab_size": ("vocabulary_size", None),
    "num_hidden_layers": ("num_layers", None),
    "num_attention_heads": ("num_heads", None),
    "embedding_size": ("embedding_dim", None),
    "hidden_size": ("hidden_dim", None),
    "intermediate_size": ("intermediate_dim", None),
    "num_hidden_groups": ("num_groups", 1),
    "inner_group_num": ("num_inner_repetitions", 1),
    "hidden_dropout_prob": ("dropout", 0.0),
    "max_position_embeddings": ("max_sequence_length", 512),
    "type_vocab_size": ("num_segments", 2),
    "hidden_act": ("activation", "gelu_new"),
    "layer_norm_eps": ("layer_norm_epsilon", 1e-12),
}


def backbone_arguments(config, source="The checkpoint's config.json"):
    """`AlbertBackbone` keyword arguments for a transformers `AlbertConfig`."""
    missing = [
        key for key, (_, default) in _CONFIG_KEYS.items()
        if default is None and key not in config
    ]  # fmt: skip
    if missing:
        raise ValueError(f"{source} lacks the AlbertConfig keys {missing}.")
    return {
        ours: config.get(theirs, default)
        for theirs, (ours, default) in _CONFIG_KEYS.items()
    }


def transformers_config(arguments):
    """The `AlbertConfig` keyword arguments of `AlbertBackbone` arguments:
    the inverse of `backbone_arguments` (dropout applies to attention too)."""
    config = {
        theirs: arguments.get(ours, default)
        for theirs, (ours, default) in _CONFIG_KEYS.items()
    }
    if config["hidden_act"] == "gelu_approximate":
        config["hidden_act"] = "gelu_new"
    config["attention_probs_dropout_prob"] = config["hidden_dropout_prob"]
    return config


class TransformersCheckpoint(PresetReader):
    """A transformers checkpoint: `config.json`, safetensors, `spiece.model`."""

    @classmethod
    def matches(cls, directory, config):
        """A `config.json` naming a `model_type`, as transformers writes."""
        return isinstance(config, dict) and "model_type" in config

    def __init__(self, name, directory, config):
        super().__init__(name, directory, config)
        if config.get("model_type") != "albert":
            raise ValueError(
                f"Preset {name!r} is a transformers checkpoint of model_type "
                f"{config.get('model_type')!r}; expected 'albert'."
            )
        embedding_type = config.get("position_embedding_type", "absolute")
        if embedding_type != "absolute":
            raise ValueError(
                f"Preset {name!r} uses position_embedding_type={embedding_type!r}; "
                "only 'absolute' position embeddings are supported."
            )

    def backbone_arguments(self, backbone_cls):
        return backbone_arguments(self.config, f"config.json of preset {self.name!r}")

    def tokenizer_arguments(self, tokenizer_cls):
        """`do_lower_case` from `tokenizer_config.json`, True when absent."""
        path = os.path.join(self.directory, "tokenizer_config.json")
        if not os.path.isfile(path):
            return {"lowercase": True}
        try:
            with open(path, encoding="utf-8") as file:
                value = json.load(file).get("do_lower_case", True)
        except (ValueError, AttributeError) as error:
            raise ValueError(
                f"{path!r} is not a JSON object ({type(error).__name__}: {error})."
            ) from None
        if not isinstance(value, bool):
            raise ValueError(
                f"'do_lower_case' in {path!r} must be true or false. "
                f"Received: {value!r}"
            )
        return {"lowercase": value}

    def vocabulary_path(self):
        return self.path(VOCABULARY_FILE)

    def preprocessor_arguments(self, preprocessor_cls):
        positions = self.config.get("max_position_embeddings", 512)
        return {"sequence_length": min(512, positions)}

    def head_arguments(self, task_cls):
        return {"head_layer_norm_epsilon": self.config.get("layer_norm_eps", 1e-12)}

    def load_backbone_weights(self, backbone):
        self._load(backbone, backbone)

    def load_task_weights(self, task):
        self._load(task.backbone, task)

    def _load(self, backbone, model):
        """Fill `backbone` and, when `model` is a task, its head."""
        tensors = _read_safetensors(self.directory)
        prefix = "albert." if any(k.startswith("albert.") for k in tensors) else ""
        entries = backbone_entries(backbone, prefix)
        fresh = []
        if f"{prefix}pooler.weight" in tensors:
            entries += pooler_entries(backbone, prefix)
        else:
            fresh.append("the pooler (pooled_dense)")
        if model is not backbone:
            if "predictions.dense.weight" in tensors:
                entries += head_entries(model.masked_lm_head)
            else:
                fresh.append("the masked-LM head (mlm_head)")
        if getattr(model, "sentence_order_head", None) is not None:
            if "sop_classifier.classifier.weight" in tensors:
                entries += sentence_order_entries(model.sentence_order_head)
            else:
                fresh.append("the sentence-order head (sentence_order_head)")
        source = f"Checkpoint {self.directory!r}"
        staged = stage_entries(entries, tensors.get, source)
        refuse_extra_blocks(
            tensors, entries, lambda key: ".albert_layer_groups." in key, source
        )
        assign_staged(staged)
        if fresh:
            warn_at_caller(
                f"{source} has no weights for {' and '.join(fresh)}; they keep "
                "their fresh random initialisation."
            )


def _read_safetensors(directory):
    """Every tensor of a (possibly sharded) checkpoint, by key."""
    single_path = os.path.join(directory, SAFETENSORS_FILE)
    index_path = os.path.join(directory, SAFETENSORS_INDEX_FILE)
    if os.path.isfile(single_path):
        paths = [single_path]
    elif os.path.isfile(index_path):
        paths = shard_files(index_path, suffix=".safetensors")
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
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ImportError(
            "Reading transformers checkpoints needs `safetensors`: "
            "pip install 'albert_mlm[hub]'"
        ) from None
    tensors = {}
    for path in paths:
        try:
            tensors.update(load_file(path))
        except Exception as error:
            raise ValueError(
                f"{path!r} is not a readable safetensors file ({error})."
            ) from None
    return tensors


def _linear(prefix, dense):
    return dense_entries(dense, f"{prefix}.weight", f"{prefix}.bias", transpose=True)


def _layer_norm(prefix, layer_norm):
    return layer_norm_entries(layer_norm, f"{prefix}.weight", f"{prefix}.bias")


def _block_entries(prefix, block):
    attention = block.attention
    projections = [f"{prefix}.attention.{name}" for name in ("query", "key", "value")]
    return [
        # Ours is one fused query/key/value `Dense`; theirs three `Linear`s.
        WeightEntry(
            tuple(f"{p}.weight" for p in projections),
            attention.query_key_value_dense.kernel,
            lambda arrays: np.concatenate([a.T for a in arrays], axis=1),
            lambda array: [part.T for part in np.split(array, 3, axis=1)],
        ),
        WeightEntry(
            tuple(f"{p}.bias" for p in projections),
            attention.query_key_value_dense.bias,
            np.concatenate,
            lambda array: np.split(array, 3),
        ),
        *_linear(f"{prefix}.attention.dense", attention.output_dense),
        *_layer_norm(f"{prefix}.attention.LayerNorm", block.attention_layer_norm),
        *_linear(f"{prefix}.ffn", block.intermediate_dense),
        *_linear(f"{prefix}.ffn_output", block.output_dense),
        *_layer_norm(f"{prefix}.full_layer_layer_norm", block.output_layer_norm),
    ]


def backbone_entries(backbone, prefix):
    """The embeddings' and encoder's entries; `prefix` is `"albert."` in a
    task's checkpoint, `""` in an `AlbertModel`'s."""
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


def pooler_entries(backbone, prefix):
    """The pooler's entries (absent from `AlbertForMaskedLM` checkpoints)."""
    return _linear(f"{prefix}pooler", backbone.pooled_dense)


def sentence_order_entries(dense):
    """`AlbertForPreTraining`'s sentence-order classifier."""
    return _linear("sop_classifier.classifier", dense)


def head_entries(head):
    """The masked-LM head's (`predictions.*`; the decoder is the tied
    embedding)."""
    return [
        *_linear("predictions.dense", head.dense),
        *_layer_norm("predictions.LayerNorm", head.layer_norm),
        WeightEntry(("predictions.bias",), head.output_bias),
    ]
