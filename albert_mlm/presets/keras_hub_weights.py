"""Our variables <-> KerasHub's `.weights.h5` files, by an explicit name map.

KerasHub's weight files are keyed by Keras' automatic layer-tree names
(`layers/transformer_encoder_3/_self_attention_layer/query_dense/vars/0`),
which depend on KerasHub's class names and layer order. Rather than copy that
structure, we map every one of its keys to our own variables here, so our
layers can differ (one fused query/key/value kernel, for instance) and KerasHub
files still load and save exactly.

Loading reads and checks every array before assigning any, so a file that
does not fit leaves the model unchanged.

>>> from albert_mlm import AlbertMaskedLM
>>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased")
>>> backbone_weight_entries(masked_lm.backbone)[0].keys
('layers/reversible_embedding/vars/0',)
"""

import io
import os

import h5py
import numpy as np

from albert_mlm.presets.shard_index import shard_files
from albert_mlm.presets.weight_entries import (
    WeightEntry,
    assign_staged,
    dense_entries,
    layer_norm_entries,
    refuse_extra_blocks,
    stage_entries,
)

# KerasHub's encoder blocks: transformer_encoder, transformer_encoder_1, ...
_BLOCK_PREFIX = "layers/transformer_encoder"


def _vars(layer_path, count=2):
    return [f"layers/{layer_path}/vars/{index}" for index in range(count)]


def _dense_entries(layer_path, dense):
    return dense_entries(dense, *_vars(layer_path))


def _layer_norm_entries(layer_path, layer_norm):
    return layer_norm_entries(layer_norm, *_vars(layer_path))


def _encoder_block_entries(layer_path, block):
    attention = block.attention
    hidden_dim = attention.num_heads * attention.head_dim
    heads_shape = (attention.num_heads, attention.head_dim)
    attention_path = f"{layer_path}/_self_attention_layer"
    projections = [
        f"{attention_path}/{name}_dense" for name in ("query", "key", "value")
    ]

    def fuse_kernels(arrays):
        return np.concatenate([a.reshape(hidden_dim, hidden_dim) for a in arrays], 1)

    def split_kernel(array):
        return [p.reshape((hidden_dim,) + heads_shape) for p in np.split(array, 3, 1)]

    def fuse_biases(arrays):
        return np.concatenate([a.reshape(hidden_dim) for a in arrays])

    def split_bias(array):
        return [p.reshape(heads_shape) for p in np.split(array, 3)]

    output_kernel, output_bias = _vars(f"{attention_path}/output_dense")
    return [
        WeightEntry(
            tuple(_vars(p)[0] for p in projections),
            attention.query_key_value_dense.kernel,
            fuse_kernels,
            split_kernel,
        ),
        WeightEntry(
            tuple(_vars(p)[1] for p in projections),
            attention.query_key_value_dense.bias,
            fuse_biases,
            split_bias,
        ),
        WeightEntry(
            (output_kernel,),
            attention.output_dense.kernel,
            lambda arrays: arrays[0].reshape(hidden_dim, hidden_dim),
            lambda array: [array.reshape(heads_shape + (hidden_dim,))],
        ),
        WeightEntry((output_bias,), attention.output_dense.bias),
        *_layer_norm_entries(
            f"{layer_path}/_self_attention_layer_norm", block.attention_layer_norm
        ),
        *_dense_entries(
            f"{layer_path}/_feedforward_intermediate_dense", block.intermediate_dense
        ),
        *_dense_entries(f"{layer_path}/_feedforward_output_dense", block.output_dense),
        *_layer_norm_entries(
            f"{layer_path}/_feedforward_layer_norm", block.output_layer_norm
        ),
    ]


def backbone_weight_entries(backbone):
    """The entries of KerasHub's `model.weights.h5` for an `AlbertBackbone`."""
    entries = [
        WeightEntry(
            ("layers/reversible_embedding/vars/0",), backbone.token_embedding.embeddings
        ),
        WeightEntry(
            ("layers/position_embedding/vars/0",),
            backbone.position_embedding.position_embeddings,
        ),
        WeightEntry(
            ("layers/embedding/vars/0",), backbone.segment_embedding.embeddings
        ),
        *_layer_norm_entries("layer_normalization", backbone.embeddings_layer_norm),
        *_dense_entries("dense", backbone.embeddings_projection),
        *_dense_entries("dense_1", backbone.pooled_dense),
    ]
    # KerasHub names its encoder blocks by creation order, group-major:
    # transformer_encoder, transformer_encoder_1, ...
    blocks = [block for group in backbone.groups for block in group]
    for index, block in enumerate(blocks):
        suffix = f"_{index}" if index else ""
        entries += _encoder_block_entries(f"transformer_encoder{suffix}", block)
    return entries


def head_weight_entries(masked_lm):
    """The entries of KerasHub's `task.weights.h5` for an `AlbertMaskedLM`."""
    head = masked_lm.masked_lm_head
    return [
        *_dense_entries("masked_lm_head/_intermediate_dense", head.dense),
        *_layer_norm_entries(
            "masked_lm_head/_intermediate_layer_norm", head.layer_norm
        ),
        WeightEntry(("layers/masked_lm_head/vars/0",), head.output_bias),
    ]


def sentence_order_entries(task):
    """Our `task.weights.h5` entries for a task's sentence-order head (KerasHub
    has none), or `[]` for a task without one."""
    head = getattr(task, "sentence_order_head", None)
    if head is None:
        return []
    return _dense_entries("sentence_order_head", head)


def _weight_files(path):
    """The `.h5` files behind `path`: itself, or the shards a Keras sharded
    weights index (`model.weights.json`) names."""
    path = os.fspath(path)
    return shard_files(path) if path.endswith(".json") else [path]


def _open_weights_file(name):
    try:
        return h5py.File(name, "r")
    except OSError as error:
        raise ValueError(
            f"{name!r} is not a readable .weights.h5 (HDF5) file: {error}"
        ) from None


def _stage_file(path, entries, whole=False):
    """Read and check `entries` from the file(s) at `path`; with `whole`, the
    file must hold no encoder block beyond them."""
    files = []
    try:
        for name in _weight_files(path):
            files.append(_open_weights_file(name))

        def read(key):
            for file in files:
                if key in file:
                    try:
                        return file[key][()]
                    except (OSError, TypeError, ValueError) as error:
                        raise ValueError(
                            f"Weight {key!r} in {file.filename!r} cannot be "
                            f"read as an array: {error}"
                        ) from None
            return None

        source = f"Weights file {str(path)!r}"
        staged = stage_entries(entries, read, source)
        if whole:
            stored = []
            for file in files:
                file.visititems(
                    lambda name, item: (
                        stored.append(name) if isinstance(item, h5py.Dataset) else None
                    )
                )
            refuse_extra_blocks(
                stored, entries, lambda k: k.startswith(_BLOCK_PREFIX), source
            )
        return staged
    finally:
        for file in files:
            file.close()


def load_keras_hub_weights(model, backbone_path, head_path=None):
    """Load KerasHub weight files into an `AlbertBackbone` or a task.

    Args:
        model: the backbone or task (`AlbertMaskedLM`, `AlbertPreTrainer`).
        backbone_path: KerasHub's `model.weights.h5`, or the
            `model.weights.json` index of its sharded weights.
        head_path: `task.weights.h5`, or `None` to leave the heads as they
            are.

    Returns:
        The heads the file lacked (a sentence-order head the preset of a
        masked LM has no weights for), left as initialised.
    """
    backbone = getattr(model, "backbone", model)
    staged = _stage_file(backbone_path, backbone_weight_entries(backbone), whole=True)
    fresh = []
    if head_path is not None:
        staged += _stage_file(head_path, head_weight_entries(model))
        sentence_order = sentence_order_entries(model)
        if sentence_order and _holds(head_path, sentence_order[0].keys[0]):
            staged += _stage_file(head_path, sentence_order)
        elif sentence_order:
            fresh.append("the sentence-order head (sentence_order_head)")
    assign_staged(staged)
    return fresh


def _holds(path, key):
    file = _open_weights_file(path)
    try:
        return key in file
    finally:
        file.close()


def write_keras_hub_weights(entries, path):
    """Write `entries` as a KerasHub-layout `.weights.h5` file at `path`.

    The HDF5 file is built in memory and written with plain file I/O: when
    the disk fills, that raises `OSError`, where HDF5 writing to disk itself
    can crash the process.
    """
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        for entry in entries:
            arrays = entry.to_theirs(np.asarray(entry.variable.numpy()))
            for key, array in zip(entry.keys, arrays):
                file.create_dataset(key, data=array)
    with open(path, "wb") as output:
        output.write(buffer.getbuffer())
