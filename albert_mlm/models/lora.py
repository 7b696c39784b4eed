"""LoRA fine-tuning of `AlbertBackbone`: which projections take factors, the
freezing, and the `.lora.h5` adapter file.

`enable_lora` freezes every backbone weight, biases included (the factors
alone train, as in the LoRA paper and PEFT's default), and adds rank-`rank`
factors to the named projections of every shared block: one set per block,
serving each layer call of its group. `query`, `key` and `value` are parts of
one fused kernel (`FusedDense`'s `output_parts`): an unnamed part gets no
factors, so the fused layer computes what LoRA on separate layers would.

The adapter file holds every variable the backbone trains (the factors, and
anything else made trainable by hand), by variable path, with the rank and
layer names as attributes; loading checks it all before assigning anything.

>>> from albert_mlm import AlbertBackbone
>>> backbone = AlbertBackbone(vocabulary_size=50, num_layers=2, num_heads=2,
...     embedding_dim=8, hidden_dim=16, intermediate_dim=32)
>>> enable_lora(backbone, rank=2)
>>> [variable.path for variable in backbone.trainable_weights]
['group_0_inner_layer_0/attention/query_key_value/query_lora_kernel_a',
 'group_0_inner_layer_0/attention/query_key_value/query_lora_kernel_b',
 'group_0_inner_layer_0/attention/query_key_value/value_lora_kernel_a',
 'group_0_inner_layer_0/attention/query_key_value/value_lora_kernel_b']
"""

import io
import json
import os
import tempfile

import h5py
import numpy as np

from albert_mlm.layers.fused_dense import lora_factor_name
from albert_mlm.quantization import quantized_layers

# Each name LoRA may target: the block's layer, and the part of its kernel
# (`None`: all of it). `output` is attention's output projection.
LORA_TARGETS = {
    "query": (lambda block: block.attention.query_key_value_dense, "query"),
    "key": (lambda block: block.attention.query_key_value_dense, "key"),
    "value": (lambda block: block.attention.query_key_value_dense, "value"),
    "output": (lambda block: block.attention.output_dense, None),
    "intermediate_dense": (lambda block: block.intermediate_dense, None),
    "output_dense": (lambda block: block.output_dense, None),
}
DEFAULT_LORA_LAYER_NAMES = ("query", "value")
LORA_SUFFIX = ".lora.h5"
_FORMAT = "albert_mlm LoRA adapter"


def _blocks(backbone):
    return [block for group in backbone.groups for block in group]


def _layer_parts(backbone, names):
    """`[(layer, parts)]`: each adapted layer of every block, with the parts
    of its kernel that `names` target (`None`: the whole kernel)."""
    found = []
    for block in _blocks(backbone):
        layers, parts = [], []
        for name in names:
            layer_of, part = LORA_TARGETS[name]
            if layer_of(block) not in layers:
                layers.append(layer_of(block))
                parts.append([])
            if part is not None:
                parts[layers.index(layer_of(block))].append(part)
        found += [(layer, tuple(p) or None) for layer, p in zip(layers, parts)]
    return found


def lora_state(backbone):
    """`(rank, target layer names)` of an enabled backbone, else `None`."""
    block = _blocks(backbone)[0]
    names = [
        name
        for name, (layer_of, part) in LORA_TARGETS.items()
        if layer_of(block).lora_enabled
        and (part is None or part in layer_of(block).lora_parts)
    ]
    if not names:
        return None
    return LORA_TARGETS[names[0]][0](block).lora_rank, names


def _check_request(backbone, rank, target_layer_names):
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise ValueError(f"`rank` must be a positive integer. Received: {rank!r}")
    names = list(target_layer_names)
    unknown = [name for name in names if name not in LORA_TARGETS]
    if unknown or not names:
        raise ValueError(
            f"`target_layer_names` must name some of {list(LORA_TARGETS)}. "
            f"Received: {target_layer_names!r}"
        )
    state = lora_state(backbone)
    if state is not None:
        raise ValueError(
            f"LoRA is already enabled on this backbone (rank={state[0]}, "
            f"layers {state[1]}); enable it once, on a fresh model."
        )
    quantized = quantized_layers(backbone)
    if quantized:
        raise ValueError(
            "Cannot enable LoRA on a quantized backbone: layers such as "
            f"{quantized[0].path!r} hold quantized kernels. Enable LoRA on the "
            "float model."
        )
    return list(dict.fromkeys(names))


def enable_lora(backbone, rank, target_layer_names=None):
    """Freeze `backbone` and add rank-`rank` factors to the named projections
    (`DEFAULT_LORA_LAYER_NAMES` when `None`) of every shared block."""
    if target_layer_names is None:
        target_layer_names = DEFAULT_LORA_LAYER_NAMES
    names = _check_request(backbone, rank, target_layer_names)
    backbone.trainable = True
    for variable in backbone.weights:
        variable.trainable = False
    for layer, parts in _layer_parts(backbone, names):
        layer.enable_lora(rank, parts=parts)


def _require_suffix(filepath):
    if not str(filepath).endswith(LORA_SUFFIX):
        raise ValueError(
            f"The LoRA file name must end in `{LORA_SUFFIX}`. "
            f"Received: filepath={str(filepath)!r}"
        )


def save_lora_weights(backbone, filepath):
    """Write every trainable variable of `backbone` to `filepath` (a
    `.lora.h5` file), atomically: a failed save leaves no partial file."""
    _require_suffix(filepath)
    state = lora_state(backbone)
    if state is None:
        raise ValueError(
            "This backbone has no LoRA factors to save; call `enable_lora(rank)` first."
        )
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.attrs["format"] = _FORMAT
        file.attrs["rank"] = state[0]
        file.attrs["target_layer_names"] = json.dumps(state[1])
        for variable in backbone.trainable_weights:
            file.create_dataset(variable.path, data=np.asarray(variable.numpy()))
    directory = os.path.dirname(os.path.abspath(filepath))
    handle, staging = tempfile.mkstemp(dir=directory, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(buffer.getbuffer())
            output.flush()
            os.fsync(output.fileno())
        os.replace(staging, filepath)
    except BaseException:
        os.remove(staging)
        raise


def _read_adapter(filepath):
    """`(rank, names, {path: array})` of a `.lora.h5` file."""
    _require_suffix(filepath)
    try:
        with h5py.File(filepath, "r") as file:
            if file.attrs.get("format") != _FORMAT:
                raise ValueError("no albert_mlm LoRA adapter header")
            paths = []
            file.visit(paths.append)  # Groups and datasets, in order.
            arrays = {
                path: file[path][()]
                for path in paths
                if isinstance(file[path], h5py.Dataset)
            }
            names = json.loads(file.attrs["target_layer_names"])
            return int(file.attrs["rank"]), names, arrays
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(
            f"{str(filepath)!r} is not a readable LoRA adapter file "
            f"(written by `save_lora_weights`): {error}"
        ) from error


def _expected_shapes(backbone, rank, names):
    """Variable path -> shape of what an adapter for `backbone` may hold:
    the factors `enable_lora(rank, names)` makes, and the backbone's own
    variables (trained by hand)."""
    shapes = {variable.path: tuple(variable.shape) for variable in backbone.weights}
    for layer, parts in _layer_parts(backbone, names):
        for part in parts or (None,):
            width = layer.units // (len(layer.output_parts) if part else 1)
            path = f"{layer.path}/{lora_factor_name(part, '{}')}"
            shapes[path.format("a")] = (layer.kernel.shape[0], rank)
            shapes[path.format("b")] = (rank, width)
    return shapes


def _check_fit(backbone, filepath, rank, names):
    """Refuse an adapter whose rank or layers differ from the backbone's LoRA."""
    state = lora_state(backbone)
    if state is None:
        _check_request(backbone, rank, names)
        return
    if state[0] != rank:
        raise ValueError(
            f"{str(filepath)!r} holds rank-{rank} LoRA factors, but this "
            f"backbone's LoRA has rank {state[0]} (`enable_lora(rank={state[0]})`)."
            " Both ranks must match."
        )
    if sorted(state[1]) != sorted(names):
        raise ValueError(
            f"{str(filepath)!r} adapts layers {names}, but this backbone's LoRA "
            f"adapts {state[1]}; enable LoRA with "
            f"`target_layer_names={names}`."
        )


def load_lora_weights(backbone, filepath):
    """Assign what `save_lora_weights` wrote to `filepath`, enabling LoRA with
    its rank and layers first when it is not enabled. Checked in full before
    anything changes: a file that does not fit leaves `backbone` as it was."""
    rank, names, arrays = _read_adapter(filepath)
    _check_fit(backbone, filepath, rank, names)
    shapes = _expected_shapes(backbone, rank, names)
    factors = set(shapes) - {variable.path for variable in backbone.weights}
    missing = sorted(factors - set(arrays))
    if missing:
        raise ValueError(f"{str(filepath)!r} has no factor {missing[0]!r}.")
    for path, array in arrays.items():
        if path not in shapes or tuple(array.shape) != shapes[path]:
            expected = shapes.get(path, "no such variable")
            raise ValueError(
                f"{str(filepath)!r} holds {path!r} of shape {tuple(array.shape)}; "
                f"this backbone expects {expected}."
            )
    if lora_state(backbone) is None:
        enable_lora(backbone, rank, names)
    variables = {variable.path: variable for variable in backbone.weights}
    for path, array in arrays.items():
        variables[path].assign(array)
