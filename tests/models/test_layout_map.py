"""`AlbertBackbone.get_layout_map` (`albert_mlm.models.layout_map`): which kernels
split over which axis of a device mesh. Training with the map is in
tests/models/test_distribution.py."""

import re

import pytest
from helpers import TINY_BACKBONE, cpu_mesh

from albert_mlm import AlbertBackbone


def test_layout_map_shards_the_intended_kernels(masked_lm):
    backbone = masked_lm.backbone
    layout_map = AlbertBackbone.get_layout_map(cpu_mesh())
    # Split by rows over "model" (and columns over "batch"), or the reverse.
    rows, columns = ("model", "batch"), ("batch", "model")
    intended = {
        backbone.token_embedding.embeddings.path: rows,
        backbone.embeddings_projection.kernel.path: columns,
    }
    for group in backbone.groups:
        for block in group:
            intended[block.attention.query_key_value_dense.kernel.path] = columns
            intended[block.attention.output_dense.kernel.path] = rows
            intended[block.intermediate_dense.kernel.path] = columns
            intended[block.output_dense.kernel.path] = rows
    # One set of variables per shared block, whatever `num_layers` is.
    num_blocks = TINY_BACKBONE["num_groups"] * TINY_BACKBONE["num_inner_repetitions"]
    assert len(intended) == 2 + 4 * num_blocks
    for variable in masked_lm.weights:
        matching = [key for key in layout_map if re.fullmatch(key, variable.path)]
        layout = layout_map[variable.path]
        if variable.path in intended:
            assert len(matching) == 1, variable.path
            assert layout.axes == intended[variable.path], variable.path
            assert layout.device_mesh.shape == (2, 2)
        else:
            assert matching == [] and layout is None, variable.path


def test_layout_map_uses_the_given_axis_names(backbone):
    layout_map = AlbertBackbone.get_layout_map(
        cpu_mesh(("data", "tensor")),
        model_parallel_dim_name="tensor",
        data_parallel_dim_name="data",
    )
    block = backbone.groups[1][0]
    assert layout_map[block.intermediate_dense.kernel.path].axes == ("data", "tensor")
    assert layout_map[block.output_dense.kernel.path].axes == ("tensor", "data")


def test_layout_map_rejects_a_bad_mesh_or_axis_name():
    with pytest.raises(TypeError, match="`device_mesh` must be a `keras.distri"):
        AlbertBackbone.get_layout_map((2, 2))
    with pytest.raises(
        ValueError, match=r"`model_parallel_dim_name` must be an ax.*'tensor'"
    ):
        AlbertBackbone.get_layout_map(cpu_mesh(), model_parallel_dim_name="tensor")
    with pytest.raises(ValueError, match=r"`data_parallel_dim_name` must be an axis"):
        AlbertBackbone.get_layout_map(cpu_mesh(), data_parallel_dim_name="data")
