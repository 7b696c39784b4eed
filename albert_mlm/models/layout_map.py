"""How `AlbertBackbone`'s weights split over a device mesh (model parallelism).

The large kernels split over the mesh axis `model_parallel_dim_name` and their
other axis over `data_parallel_dim_name`: the token embedding by vocabulary
rows; the embedding projection, the fused query/key/value kernel and the
feed-forward `intermediate_dense` by output columns; the attention `output`
and feed-forward `output_dense` by input rows. A group's shared blocks are one
set of variables, so each is sharded once however many layer calls use it.
Every other variable (biases, layer norms, position and segment embeddings,
the pooler, the masked-LM head) is replicated, the LoRA factors explicitly
(`enable_lora`: `(hidden, rank)` and `(rank, hidden)`, too small to be worth
splitting, and a rank need not divide a mesh axis). Each sharded dimension
must be divisible by the size of its mesh axis.

>>> devices = keras.distribution.list_devices()
>>> mesh = keras.distribution.DeviceMesh((1, len(devices)), ("batch", "model"),
...     devices=devices)
>>> albert_layout_map(mesh)["token_embedding/embeddings"].axes
('model', 'batch')
"""

import keras


def albert_layout_map(
    device_mesh, model_parallel_dim_name="model", data_parallel_dim_name="batch"
):
    """A `keras.distribution.LayoutMap` for `AlbertBackbone`'s variable paths."""
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise TypeError(
            "`device_mesh` must be a `keras.distribution.DeviceMesh`. "
            f"Received: {type(device_mesh).__name__}"
        )
    for argument, axis in [
        ("model_parallel_dim_name", model_parallel_dim_name),
        ("data_parallel_dim_name", data_parallel_dim_name),
    ]:
        if axis not in device_mesh.axis_names:
            raise ValueError(
                f"`{argument}` must be an axis of `device_mesh`, one of "
                f"{list(device_mesh.axis_names)}. Received: {axis!r}"
            )
    model, data = model_parallel_dim_name, data_parallel_dim_name
    block = r"group_\d+_inner_layer_\d+/"
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map["token_embedding/embeddings"] = (model, data)
    layout_map["embeddings_projection/kernel"] = (data, model)
    layout_map[block + "attention/query_key_value/kernel"] = (data, model)
    layout_map[block + "attention/output/kernel"] = (model, data)
    layout_map[block + "intermediate_dense/kernel"] = (data, model)
    layout_map[block + "output_dense/kernel"] = (model, data)
    layout_map[block + r".+/(\w+_)?lora_kernel_[ab]"] = (None, None)
    return layout_map


def require_distribution_support():
    """Refuse to build under a Keras distribution on the torch backend: it
    has no `keras.distribution`, so a model built under a `DataParallel` or
    `ModelParallel` there would run on one device without a word."""
    distribution = keras.distribution.distribution()
    if distribution is not None and keras.backend.backend() == "torch":
        raise RuntimeError(
            f"A {type(distribution).__name__} distribution is set, but the "
            "torch backend does not support keras.distribution: the model "
            "would run on one device. Use KERAS_BACKEND=jax (keras.distribution) "
            "or tensorflow (tf.distribute.MirroredStrategy), or remove the "
            "distribution: keras.distribution.set_distribution(None)."
        )
