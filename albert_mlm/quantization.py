"""Which layers `quantize` has changed: the one scan that configs (to rebuild
them) and saving (to refuse the float-only preset format) both read.

>>> import keras
>>> model = keras.Sequential([keras.layers.Dense(2, name="projection")])
>>> model.build((None, 4))
>>> quantized_layers(model)
[]
>>> model.quantize("int8")
>>> [layer.name for layer in quantized_layers(model)]
['projection']
"""


def quantized_layers(root):
    """The layers under `root` (itself included) that `quantize` changed;
    `[]` for an object that holds no layers."""
    flatten = getattr(root, "_flatten_layers", None)
    if flatten is None:
        return []
    return [
        layer
        for layer in flatten()
        if getattr(layer, "quantization_mode", None) is not None
    ]


def refuse_quantized(obj, action, float_format, advice):
    """Raise `ValueError` when `obj` has quantized layers and `action` (e.g.
    "save ... as a preset") writes `float_format`, which holds float weights
    only; `advice` says what to do instead."""
    quantized = [layer.path for layer in quantized_layers(obj)]
    if quantized:
        verb, _, destination = action.partition(" ... ")
        raise ValueError(
            f"Cannot {verb} a quantized {type(obj).__name__} {destination}: "
            f"{float_format} float weights, and layers such as {quantized[0]!r} "
            f"hold quantized ones. {advice}"
        )


def quantized_policy_map(roots, default_policy):
    """A `DTypePolicyMap` over `default_policy` holding the policy of every
    quantized layer under `roots`, by path (empty when none is quantized)."""
    import keras

    policy_map = keras.dtype_policies.DTypePolicyMap(default_policy=default_policy)
    for root in roots:
        for layer in quantized_layers(root):
            policy_map[layer.path] = layer.dtype_policy
    return policy_map


def quantized_head_config(task):
    """`{"dtype": serialized policy map}` once `quantize` has changed layers
    of `task` outside its backbone (its heads), else `{}`: the entry a
    task's config needs to rebuild them quantized."""
    import keras

    heads = [layer for layer in task.layers if layer is not task.backbone]
    policy_map = quantized_policy_map(heads, task.backbone.dtype_policy)
    if not len(policy_map):
        return {}
    return {"dtype": keras.dtype_policies.serialize(policy_map)}
