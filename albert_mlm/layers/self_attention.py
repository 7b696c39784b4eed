"""Multi-head self-attention with one fused query/key/value projection."""

import functools

import keras
from keras import ops

from albert_mlm.layers.fused_dense import FusedDense

# A padded key's score: far below any real score, finite in float32 and
# bfloat16 (float16 tops out at 65504).
_PADDED_KEY_SCORE = -1e9
_PADDED_KEY_SCORE_FLOAT16 = -3e4
# Flash kernels take these dtypes and head sizes only.
_FLASH_DTYPES = ("float16", "bfloat16")
_FLASH_MAX_HEAD_DIM = 256


def attend(query, key, value, key_mask=None, probability_dropout=None):
    """Each query's softmax-weighted average of `value` over unmasked keys.

    PyTorch and JAX run `keras.ops.dot_product_attention`, which calls their
    fused kernels: with no `key_mask` on a GPU in float16 or bfloat16, a flash
    kernel (PyTorch's SDPA flash kernel, JAX's cuDNN); with one, PyTorch's
    memory-efficient kernel or JAX's XLA attention. TensorFlow (and any
    backend while attention dropout is on) runs it spelled out with the
    fewest passes over the `(query, key)` scores: Keras' TensorFlow version
    scales the scores, builds a full-size boolean mask and selects with it,
    three extra passes over the largest tensor of the layer; here the queries
    are scaled and the padding is one broadcast additive bias.

    Args:
        query: `(batch, queries, heads, head_dim)`.
        key, value: `(batch, keys, heads, head_dim)`.
        key_mask: `(batch, keys)`, true (or 1) for the keys to attend to;
            `None` attends to every key, with the fastest kernel.
        probability_dropout: a callable applied to the attention
            probabilities (a dropout layer while training), or `None`.

    Returns:
        `(batch, queries, heads, head_dim)` in the dtype of `query`.

    Example:
    >>> q = keras.ops.ones((1, 3, 2, 4))
    >>> tuple(attend(q, q, q, key_mask=keras.ops.ones((1, 3))).shape)
    (1, 3, 2, 4)
    """
    dtype = keras.backend.standardize_dtype(query.dtype)
    if probability_dropout is None and keras.backend.backend() != "tensorflow":
        bias = None if key_mask is None else _key_bias(key_mask, dtype)
        return ops.dot_product_attention(
            query, key, value, bias=bias, flash_attention=_flash_attention(query, bias)
        )
    head_dim = query.shape[-1]
    scores = ops.einsum("bqhd,bkhd->bhqk", query * (head_dim**-0.5), key)
    scores = ops.cast(scores, "float32")
    if key_mask is not None:
        scores = scores + _key_bias(key_mask, "float32")
    probabilities = ops.cast(ops.softmax(scores, axis=-1), dtype)
    if probability_dropout is not None:
        probabilities = probability_dropout(probabilities)
    return ops.einsum("bhqk,bkhd->bqhd", probabilities, value)


def _key_bias(key_mask, dtype):
    """`(batch, 1, 1, keys)` in `dtype`: 0 for the keys to attend to, a far
    negative score for padded ones.

    Python operators on the tensor, not `ops.where(mask, 0.0, score)`: on
    torch, Keras turns each Python number an op receives into a tensor on
    the device, a host-to-device copy that waits for the device each time.
    """
    score = _PADDED_KEY_SCORE_FLOAT16 if dtype == "float16" else _PADDED_KEY_SCORE
    attended = ops.cast(ops.cast(key_mask, "bool"), dtype)
    return ((attended - 1) * -score)[:, None, None, :]


def _flash_attention(query, bias):
    """The `flash_attention` argument of `ops.dot_product_attention`.

    Decided from static facts only (backend, device, dtype, head size, bias
    or not), so no call waits for the device. `False` where no flash kernel
    takes the inputs, also when `keras.config.enable_flash_attention()` asked
    for one (the request is refused quietly, not raised); else the Keras
    setting: `None` lets Keras confirm and pick the kernel, `True` insists.
    """
    enabled = keras.config.is_flash_attention_enabled()
    if enabled is False or bias is not None:
        return False
    if not _flash_kernel_fits(*_device_facts(query), query.shape[-1]):
        return False
    return enabled


def _flash_kernel_fits(backend, platform, dtype, compute_capability, head_dim):
    """Whether `backend`'s flash kernel takes unmasked attention in `dtype`
    with heads of `head_dim` on a device of `platform` (`"gpu"` for CUDA)
    and `compute_capability` (`(major, minor)`, Ampere and later).

    >>> _flash_kernel_fits("jax", "gpu", "bfloat16", (9, 0), 64)
    True
    >>> _flash_kernel_fits("torch", "cpu", "bfloat16", None, 64)
    False
    """
    if backend not in ("jax", "torch") or platform != "gpu":
        return False
    if dtype not in _FLASH_DTYPES or (compute_capability or (0, 0)) < (8, 0):
        return False
    # JAX's cuDNN kernel takes heads up to 128 wide before Hopper (9.0).
    hopper = compute_capability >= (9, 0)
    largest = 128 if backend == "jax" and not hopper else _FLASH_MAX_HEAD_DIM
    return head_dim % 8 == 0 and head_dim <= largest


def _device_facts(query):
    """`(backend, platform, dtype, compute_capability)` of `query`'s device,
    read from metadata (never from values)."""
    backend = keras.backend.backend()
    dtype = keras.backend.standardize_dtype(query.dtype)
    if backend == "torch":
        import torch

        if query.device.type != "cuda":
            return backend, query.device.type, dtype, None
        return backend, "gpu", dtype, torch.cuda.get_device_capability(query.device)
    if backend == "jax":
        import jax

        # A traced query has no device: the step runs on the default one.
        device = jax.devices()[0]
        capability = getattr(device, "compute_capability", None)
        if device.platform != "gpu" or capability is None:
            return backend, device.platform, dtype, None
        return backend, "gpu", dtype, tuple(int(n) for n in capability.split("."))
    return backend, "cpu", dtype, None


@keras.saving.register_keras_serializable(package="albert_mlm")
class SelfAttention(keras.layers.Layer):
    """Bidirectional multi-head self-attention over non-padding keys.

    With `query_positions` (a `(batch, positions)` integer tensor), only
    those positions attend (to every key), and only their outputs are
    returned.

    The query, key and value projections are one `(hidden, 3 * hidden)` dense
    kernel, laid out `[query | key | value]`, each part head-major (column
    `head * head_dim + d`), so one matrix multiply feeds all three. Its
    `output_parts` name the three blocks, so LoRA can adapt query and value
    alone (`AlbertBackbone.enable_lora`).

    Args:
        num_heads: number of attention heads; must divide the hidden size.
        dropout: dropout rate on the attention probabilities.
        kernel_initializer: initializer of both dense kernels.

    Example:
    >>> attention = SelfAttention(num_heads=2)
    >>> x = keras.ops.ones((1, 4, 8))
    >>> tuple(attention(x, padding_mask=keras.ops.ones((1, 4))).shape)
    (1, 4, 8)
    """

    def __init__(
        self, num_heads, dropout=0.0, kernel_initializer="glorot_uniform", **kwargs
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads != 0:
            raise ValueError(
                f"The hidden size ({hidden_dim}) must be divisible by "
                f"`num_heads`. Received: num_heads={self.num_heads}"
            )
        self.head_dim = hidden_dim // self.num_heads
        self.query_key_value_dense = FusedDense(
            3 * hidden_dim,
            output_parts=("query", "key", "value"),
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="query_key_value",
        )
        self.query_key_value_dense.build(inputs_shape)
        self.output_dense = FusedDense(
            hidden_dim,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="output",
        )
        self.output_dense.build(inputs_shape)
        self.probability_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy
        )

    def call(self, inputs, padding_mask=None, training=None, query_positions=None):
        qkv = self.query_key_value_dense(inputs)
        qkv = ops.reshape(
            qkv, ops.shape(inputs)[:-1] + (3, self.num_heads, self.head_dim)
        )
        # unstack, not three slices: a slice's gradient is a zero-filled copy
        # of the whole projection, unstack's is one stack of the three.
        query, key, value = ops.unstack(qkv, 3, axis=2)
        if query_positions is not None:
            query = ops.take_along_axis(query, query_positions[:, :, None, None], 1)
        dropout = None
        if training and self.dropout > 0:
            dropout = functools.partial(self.probability_dropout, training=True)
        attended = attend(query, key, value, padding_mask, probability_dropout=dropout)
        attended = ops.reshape(attended, ops.shape(query)[:2] + (-1,))
        return self.output_dense(attended)

    def compute_output_shape(
        self, inputs_shape, padding_mask_shape=None, query_positions_shape=None
    ):
        if query_positions_shape is None:
            return inputs_shape
        return tuple(query_positions_shape) + (inputs_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
