"""The weights a format stores for a LoRA-adapted model: each adapted kernel
with its update merged in (`FusedDense.merged_kernel`), and no factors.

Writers (`saving.py` for KerasHub presets, `transformers_export.py`) read
their entries through `lora_merged`, so a LoRA model leaves as the plain
model it computes.
"""

import dataclasses
import math

import keras


class MergedKernel:
    """A LoRA-adapted kernel as a writer reads it: with its update merged."""

    def __init__(self, layer):
        self.layer = layer

    def numpy(self):
        return keras.ops.convert_to_numpy(self.layer.merged_kernel())


def lora_layers(model):
    """The layers of `model` that carry LoRA factors."""
    return [
        layer
        for layer in model._flatten_layers()
        if getattr(layer, "lora_enabled", False) and hasattr(layer, "merged_kernel")
    ]


def lora_merged(entries, model):
    """`entries`, each LoRA-adapted kernel read with its update merged in."""
    merged = {id(layer.kernel): MergedKernel(layer) for layer in lora_layers(model)}
    return [
        dataclasses.replace(entry, variable=merged[id(entry.variable)])
        if id(entry.variable) in merged
        else entry
        for entry in entries
    ]


def lora_parameter_count(model):
    """The LoRA factors' parameters, which a merged checkpoint does not hold."""
    return sum(
        math.prod(factor.shape)
        for layer in lora_layers(model)
        for factors in layer.lora_factors().values()
        for factor in factors
    )
