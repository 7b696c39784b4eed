"""The matmul ceiling of the Keras backend, measured in its own worker.

Two figures: GFLOP/s of one large square `keras.ops.matmul`, and tokens/s of
the model's forward matmuls alone, an upper bound for every implementation.
"""

import math
import statistics
import time

import numpy as np
from keras_devices import keras_device_name
from measuring import throughput, time_calls
from model_configuration import model_config

MATMUL_TRIALS = 5
# Each matmul trial repeats the product until it lasts about this long.
MATMUL_TRIAL_SECONDS = 0.2


def compute_dtype(precision):
    """The dtype a `--precision` computes its matmuls in."""
    return "bfloat16" if precision == "mixed_bfloat16" else "float32"


def run_ceiling(workdir, args):
    """The square-matmul GFLOP/s; for one configuration (not the device
    suite, whose configurations differ), also the model's matmuls alone."""
    import keras

    ceiling = {}
    if args.device is None:
        model_dtype = compute_dtype(args.precision)
        ceiling["model_matmul_bound"] = {
            "dtype": model_dtype,
            "predict_tokens": model_matmul_bound(model_config(args), args, model_dtype),
        }
    return {
        **ceiling,
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "device": keras_device_name(),
        "matmul_size": args.matmul_size,
        "gflops": {
            dtype: matmul_gflops(dtype, args.matmul_size)
            for dtype in ("float32", "bfloat16")
        },
    }


def matmul_gflops(dtype, size):
    """Median GFLOP/s of `keras.ops.matmul` on two `size` x `size` matrices."""
    from keras import ops

    rng = np.random.default_rng(0)
    a, b = (
        ops.cast(ops.convert_to_tensor(rng.standard_normal((size, size))), dtype)
        for _ in range(2)
    )

    def products(count):
        for _ in range(count):
            c = ops.matmul(a, b)
        # Fetching one element waits for every queued product.
        ops.convert_to_numpy(ops.cast(c[0, 0], "float32"))

    start = time.perf_counter()
    products(1)  # Warm-up, and a first estimate of one product's time.
    count = max(1, math.ceil(MATMUL_TRIAL_SECONDS / (time.perf_counter() - start)))
    count = min(count, 100)
    seconds = time_calls(lambda: products(count), warmup=1, repeats=MATMUL_TRIALS)
    return 2 * size**3 * count / statistics.median(seconds) / 1e9


def model_matmul_bound(config, args, dtype):
    """Tokens/s of the model's forward matmuls alone: an upper bound.

    The same matrix shapes as one forward pass of the masked-LM model
    (embedding projection; fused query/key/value, attention output and both
    feed-forward matmuls per block call; the head at the masked rows), in
    `dtype`, chained so that none can be skipped, compiled as the backend
    compiles a model step, and nothing else: no attention scores, norms,
    activations, casts or framework overhead. No implementation on this
    backend can predict faster than this.
    """
    from keras import ops

    h, e = config["hidden_dim"], config["embedding_dim"]
    i, v = config["intermediate_dim"], config["vocabulary_size"]
    block_calls = config["num_layers"] * config["num_inner_repetitions"]
    rows = args.batch_size * args.sequence_length
    masked_rows = args.batch_size * args.mask_selection_length
    rng = np.random.default_rng(0)

    def tensor(*shape):
        return ops.cast(ops.convert_to_tensor(0.02 * rng.standard_normal(shape)), dtype)

    weights = {
        "projection": tensor(e, h),
        "query_key_value": tensor(h, 3 * h),
        "attention_output": tensor(h, h),
        "intermediate": tensor(h, i),
        "output": tensor(i, h),
        "head": tensor(h, e),
        "vocabulary": tensor(e, v),
    }
    embeddings = tensor(rows, e)

    def forward(x):
        x = ops.matmul(x, weights["projection"])
        for _ in range(block_calls):
            query_key_value = ops.matmul(x, weights["query_key_value"])
            x = ops.matmul(query_key_value[:, :h], weights["attention_output"])
            x = ops.matmul(ops.matmul(x, weights["intermediate"]), weights["output"])
        logits = ops.matmul(
            ops.matmul(x[:masked_rows], weights["head"]), weights["vocabulary"]
        )
        return ops.cast(logits[0, 0], "float32")

    step = compiled(forward)
    seconds = time_calls(
        lambda: ops.convert_to_numpy(step(embeddings)), warmup=2, repeats=MATMUL_TRIALS
    )
    return throughput(rows, seconds)


def compiled(function):
    """`function` compiled the way the Keras backend runs a model's step."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function)
    if backend == "jax":
        import jax

        return jax.jit(function)
    return function  # Keras runs PyTorch eagerly.
