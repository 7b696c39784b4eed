"""Throughput and memory of three ALBERT masked-LM implementations, side by side.

Measures, on the same random weights' configuration and the same inputs:

- `albert_mlm.AlbertMaskedLM` (this repository),
- `keras_hub.models.AlbertMaskedLM` (when `keras_hub` is importable),
- `transformers.AlbertForMaskedLM` on PyTorch (when `transformers` and `torch`
  are importable),

each in its own subprocess, so that its peak resident memory is its own. For
each: train tokens/s (one Adam step), predict tokens/s (masked-LM logits at the
masked positions), preprocessing strings/s (raw text to masked training
batches) and peak memory. It also measures the matmul ceiling of the current
Keras backend and reports which fraction of it each implementation reaches.

Run from anywhere (see benchmarks/README.md):

    KERAS_BACKEND=tensorflow python benchmarks/benchmark.py --architecture base

The repository root is put on `sys.path`, so `albert_mlm` need not be
installed.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
VOCABULARY_FILE = REPO_ROOT / "tests" / "data" / "vocabulary.spm"
ARCHITECTURES_FILE = REPO_ROOT / "albert_mlm" / "architectures.py"

IMPLEMENTATIONS = ("albert_mlm", "keras_hub", "transformers")
# Modules each implementation needs besides this script's own.
REQUIRED_MODULES = {
    "albert_mlm": ("keras", "tensorflow"),
    "keras_hub": ("keras_hub",),
    "transformers": ("transformers", "torch"),
}
# The shipped tiny model uses `albert-mlm pretrain`'s default vocabulary size;
# the published sizes use ALBERT's 30000.
TINY_VOCABULARY_SIZE = 8000
PUBLISHED_VOCABULARY_SIZE = 30000
# Token ids below this are special tokens (<pad>, <unk>, [CLS], [SEP], [MASK]).
FIRST_ORDINARY_TOKEN_ID = 5
MASK_SELECTION_RATE = 0.15
LEARNING_RATE = 5e-5
MATMUL_TRIALS = 5
# Each matmul trial repeats the product until it lasts about this long.
MATMUL_TRIAL_SECONDS = 0.2

NOTES = (
    "transformers' AlbertForMaskedLM returns logits for every position "
    "(batch x sequence_length x vocabulary); predict gathers the masked "
    "positions afterwards, and its train step computes the loss from "
    "full-sequence logits (labels -100 elsewhere). The Keras models compute "
    "head logits only at the masked positions.",
    "transformers' DataCollatorForLanguageModeling masks each token with "
    "probability 0.15 (no fixed number of slots) and returns full-length labels.",
    "Model FLOPs count useful work only (the masked-LM head at the masked "
    "positions), the same numerator for every implementation; training = 3 x "
    "forward. The ceiling is the Keras backend's matmul, also for transformers.",
    "Peak RSS (ru_maxrss) covers the whole subprocess: imports, the model, the "
    "optimizer state and all three measurements.",
)


# === Configuration and inputs ===


def model_config(args):
    """`AlbertBackbone` arguments (ours and KerasHub's) for `--architecture`."""
    architectures = runpy.run_path(str(ARCHITECTURES_FILE))
    config = dict(architectures["PRETRAINING_ARCHITECTURES"][args.architecture])
    config["vocabulary_size"] = args.vocabulary_size or (
        TINY_VOCABULARY_SIZE
        if args.architecture == "tiny"
        else PUBLISHED_VOCABULARY_SIZE
    )
    return config


def architecture_names():
    return list(runpy.run_path(str(ARCHITECTURES_FILE))["PRETRAINING_ARCHITECTURES"])


def make_model_inputs(config, args):
    """One batch of random token ids, mask positions and labels (numpy)."""
    rng = np.random.default_rng(args.seed)
    batch, length = args.batch_size, args.sequence_length
    vocabulary_size = config["vocabulary_size"]
    mask_positions = np.stack(
        [
            np.sort(
                rng.choice(
                    np.arange(1, length - 1), args.mask_selection_length, replace=False
                )
            )
            for _ in range(batch)
        ]
    )
    return {
        "token_ids": rng.integers(
            FIRST_ORDINARY_TOKEN_ID, vocabulary_size, (batch, length)
        ),
        "segment_ids": np.zeros((batch, length)),
        "padding_mask": np.ones((batch, length)),
        "mask_positions": mask_positions,
        "mask_ids": rng.integers(
            FIRST_ORDINARY_TOKEN_ID, vocabulary_size, mask_positions.shape
        ),
    }


def make_strings(count, seed):
    """`count` short English lines, built from a few phrase lists."""
    subjects = (
        "the dog", "a small cat", "my neighbour", "the old teacher", "our team",
        "the river", "a young girl", "the farmer", "this machine", "the council",
    )  # fmt: skip
    verbs = (
        "found", "painted", "carried", "watched", "built",
        "forgot", "described", "followed", "opened", "sold",
    )  # fmt: skip
    objects = (
        "a red ball", "the broken window", "three letters", "the morning train",
        "an empty box", "the long report", "a quiet garden", "the new bridge",
        "two green apples", "the last page",
    )  # fmt: skip
    endings = (
        "yesterday.", "in the rain.", "before dinner.", "near the station.",
        "with great care.", "after the meeting.", "last winter.",
        "on sunday morning.", "without a word.", "at the market.",
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        parts = [rng.choice(words) for words in (subjects, verbs, objects, endings)]
        line = " ".join(parts)
        lines.append(line[0].upper() + line[1:])
    return lines


def write_shared_inputs(workdir, config, args):
    """Inputs every subprocess reads, so that all measure the same data."""
    np.savez(workdir / "inputs.npz", **make_model_inputs(config, args))
    strings = make_strings(args.num_strings, args.seed)
    (workdir / "strings.txt").write_text("\n".join(strings) + "\n")
    # transformers' AlbertTokenizer.from_pretrained wants a directory.
    (workdir / "hf_tokenizer").mkdir()
    shutil.copy(VOCABULARY_FILE, workdir / "hf_tokenizer" / "spiece.model")


def read_shared_inputs(workdir):
    with np.load(workdir / "inputs.npz") as stored:
        inputs = {key: stored[key] for key in stored.files}
    strings = (workdir / "strings.txt").read_text().splitlines()
    return inputs, strings


def forward_flops_per_token(config, sequence_length, mask_selection_length):
    """Forward FLOPs per input token of the masked-LM model (useful work only).

    2 x the matmul parameters each token meets (fused query/key/value 3h^2,
    attention output h^2 and feed-forward 2hi in every block call, plus the
    embedding projection eh), attention scores and mixing (4 * L * h per block
    call), and the head (h x e dense, e x vocabulary projection) at the masked
    positions only.
    """
    h, e = config["hidden_dim"], config["embedding_dim"]
    i, v = config["intermediate_dim"], config["vocabulary_size"]
    block_calls = config["num_layers"] * config["num_inner_repetitions"]
    matmul_params = block_calls * (4 * h * h + 2 * h * i) + e * h
    attention = block_calls * 4 * sequence_length * h
    head = mask_selection_length / sequence_length * 2 * (h * e + e * v)
    return 2 * matmul_params + attention + head


# === Timing helpers ===


def time_calls(function, warmup, repeats):
    """Seconds of each of `repeats` calls of `function`, after `warmup` calls."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return seconds


def throughput(items, seconds):
    """Items per second at the median of the timed calls, with the raw times."""
    median = statistics.median(seconds)
    return {"per_second": items / median, "median_seconds": median, "seconds": seconds}


def peak_rss_mib():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def hide_gpus_from_tensorflow():
    """Keep `tf.data` preprocessing off the accelerator another backend uses."""
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")


# === Keras-side measurements (ours and KerasHub's) ===


def keras_device_name():
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "cpu":
            return "cpu"
        return f"{device.platform} ({device.device_kind})"
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "cpu"


def keras_device_peak_memory_mib():
    """Peak accelerator memory of the Keras backend, or None on CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
    elif backend == "torch":
        import torch

        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    else:
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            return None
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    return None if peak is None else peak / 2**20


def keras_batch(inputs):
    """`(x, y, sample_weight)` as backend tensors, as the preprocessor makes."""
    from keras import ops

    x = {
        key: ops.convert_to_tensor(inputs[key], "int32")
        for key in ("token_ids", "segment_ids", "padding_mask", "mask_positions")
    }
    y = ops.convert_to_tensor(inputs["mask_ids"], "int32")
    sample_weight = ops.ones(y.shape, "float32")
    return x, y, sample_weight


def compile_keras_model(model):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[],
    )


def measure_keras_train(model, batch, args):
    """Tokens/s of `train_on_batch` (forward, loss, backward, Adam update)."""
    x, y, sample_weight = batch
    seconds = time_calls(
        lambda: model.train_on_batch(x, y, sample_weight=sample_weight),
        args.warmup_steps,
        args.steps,
    )
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_keras_predict(model, batch, args):
    """Tokens/s of `predict_on_batch`: logits at the masked positions (numpy)."""
    x, _, _ = batch
    seconds = time_calls(
        lambda: model.predict_on_batch(x), args.warmup_steps, args.steps
    )
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_tf_data_preprocessing(preprocessor, strings, args):
    """Strings/s of a preprocessor mapped over batched `tf.data` (batch first)."""
    import tensorflow as tf

    dataset = (
        tf.data.Dataset.from_tensor_slices(strings)
        .batch(args.batch_size)
        .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )

    def one_pass():
        for _ in dataset:
            pass

    seconds = time_calls(one_pass, warmup=1, repeats=args.preprocess_passes)
    return throughput(len(strings), seconds)


def measure_keras_implementation(model, preprocessor, workdir, args):
    import keras

    inputs, strings = read_shared_inputs(workdir)
    compile_keras_model(model)
    batch = keras_batch(inputs)
    train = measure_keras_train(model, batch, args)
    predict = measure_keras_predict(model, batch, args)
    preprocess = measure_tf_data_preprocessing(preprocessor, strings, args)
    return {
        "framework": f"keras {keras.__version__} ({keras.backend.backend()})",
        "device": keras_device_name(),
        "jit_compile": bool(model.jit_compile),
        "parameters": int(model.count_params()),
        "train_tokens": train,
        "predict_tokens": predict,
        "preprocess_strings": preprocess,
        "device_peak_memory_mib": keras_device_peak_memory_mib(),
    }


def run_albert_mlm(workdir, args):
    import keras

    if keras.backend.backend() != "tensorflow":
        hide_gpus_from_tensorflow()
    sys.path.insert(0, str(REPO_ROOT))
    import albert_mlm

    keras.utils.set_random_seed(args.seed)
    backbone = albert_mlm.AlbertBackbone(**model_config(args), dtype=args.precision)
    model = albert_mlm.AlbertMaskedLM(backbone, preprocessor=None)
    preprocessor = albert_mlm.AlbertMaskedLMPreprocessor(
        albert_mlm.AlbertTokenizer(str(VOCABULARY_FILE)),
        sequence_length=args.sequence_length,
        mask_selection_length=args.mask_selection_length,
    )
    result = measure_keras_implementation(model, preprocessor, workdir, args)
    result["version"] = albert_mlm.__version__
    return result


def run_keras_hub(workdir, args):
    import keras

    if keras.backend.backend() != "tensorflow":
        hide_gpus_from_tensorflow()
    import keras_hub

    keras.utils.set_random_seed(args.seed)
    backbone = keras_hub.models.AlbertBackbone(
        **model_config(args), dtype=args.precision
    )
    model = keras_hub.models.AlbertMaskedLM(backbone, preprocessor=None)
    preprocessor = keras_hub.models.AlbertMaskedLMPreprocessor(
        keras_hub.models.AlbertTokenizer(proto=str(VOCABULARY_FILE)),
        sequence_length=args.sequence_length,
        mask_selection_length=args.mask_selection_length,
    )
    result = measure_keras_implementation(model, preprocessor, workdir, args)
    result["version"] = keras_hub.__version__
    return result


# === transformers (PyTorch) measurements ===


def transformers_config(config):
    """The `AlbertConfig` matching our backbone arguments (dropout off)."""
    from transformers import AlbertConfig

    return AlbertConfig(
        vocab_size=config["vocabulary_size"],
        embedding_size=config["embedding_dim"],
        hidden_size=config["hidden_dim"],
        num_hidden_layers=config["num_layers"],
        num_hidden_groups=config["num_groups"],
        inner_group_num=config["num_inner_repetitions"],
        num_attention_heads=config["num_heads"],
        intermediate_size=config["intermediate_dim"],
        hidden_act="gelu_new",
        hidden_dropout_prob=config["dropout"],
        attention_probs_dropout_prob=config["dropout"],
        max_position_embeddings=config["max_sequence_length"],
        type_vocab_size=config["num_segments"],
        layer_norm_eps=1e-12,
    )


def torch_batch(inputs, device):
    """Model inputs, full-length labels (-100 off the masks), mask positions."""
    import torch

    def tensor(key):
        return torch.as_tensor(inputs[key], dtype=torch.long, device=device)

    features = {
        "input_ids": tensor("token_ids"),
        "token_type_ids": tensor("segment_ids"),
        "attention_mask": tensor("padding_mask"),
    }
    positions = tensor("mask_positions")
    labels = torch.full_like(features["input_ids"], -100)
    labels.scatter_(1, positions, tensor("mask_ids"))
    return features, labels, positions


def torch_autocast(device, args):
    import torch

    return torch.autocast(
        device_type=device,
        dtype=torch.bfloat16,
        enabled=args.precision == "mixed_bfloat16",
    )


def measure_torch_train(model, batch, device, args):
    """Tokens/s of one forward (loss from `labels`), backward and Adam step."""
    import torch

    features, labels, _ = batch
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch_autocast(device, args):
            loss = model(**features, labels=labels).loss
        loss.backward()
        optimizer.step()
        loss.item()  # Waits for the device.

    seconds = time_calls(step, args.warmup_steps, args.steps)
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_torch_predict(model, batch, device, args):
    """Tokens/s of a forward pass, masked positions gathered, copied to host."""
    import torch

    features, _, positions = batch
    model.eval()

    def step():
        with torch.inference_mode(), torch_autocast(device, args):
            logits = model(**features).logits
            index = positions[..., None].expand(-1, -1, logits.shape[-1])
            torch.gather(logits, 1, index).float().cpu()

    seconds = time_calls(step, args.warmup_steps, args.steps)
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_transformers_preprocessing(workdir, strings, args):
    """Strings/s of the tokenizer (padded to length) + MLM data collator."""
    from transformers import AlbertTokenizer, DataCollatorForLanguageModeling

    tokenizer = AlbertTokenizer.from_pretrained(str(workdir / "hf_tokenizer"))
    collator = DataCollatorForLanguageModeling(
        tokenizer, mlm_probability=MASK_SELECTION_RATE
    )

    def one_pass():
        for start in range(0, len(strings), args.batch_size):
            encoded = tokenizer(
                strings[start : start + args.batch_size],
                padding="max_length",
                truncation=True,
                max_length=args.sequence_length,
                return_special_tokens_mask=True,
            )
            examples = [dict(zip(encoded, row)) for row in zip(*encoded.values())]
            collator(examples)

    seconds = time_calls(one_pass, warmup=1, repeats=args.preprocess_passes)
    return throughput(len(strings), seconds)


def run_transformers(workdir, args):
    import torch
    import transformers
    from transformers import AlbertForMaskedLM

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    inputs, strings = read_shared_inputs(workdir)
    model = AlbertForMaskedLM(transformers_config(model_config(args))).to(device)
    batch = torch_batch(inputs, device)
    train = measure_torch_train(model, batch, device, args)
    predict = measure_torch_predict(model, batch, device, args)
    preprocess = measure_transformers_preprocessing(workdir, strings, args)
    on_gpu = device == "cuda"
    return {
        "version": transformers.__version__,
        "framework": f"torch {torch.__version__}",
        "device": torch.cuda.get_device_name(0) if on_gpu else "cpu",
        "attention": model.config._attn_implementation,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_tokens": train,
        "predict_tokens": predict,
        "preprocess_strings": preprocess,
        "device_peak_memory_mib": (
            torch.cuda.max_memory_allocated() / 2**20 if on_gpu else None
        ),
    }


# === Matmul ceiling ===


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


def run_ceiling(workdir, args):
    import keras

    compute_dtype = "bfloat16" if args.precision == "mixed_bfloat16" else "float32"
    return {
        "model_matmul_bound": {
            "dtype": compute_dtype,
            "predict_tokens": model_matmul_bound(
                model_config(args), args, compute_dtype
            ),
        },
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "device": keras_device_name(),
        "matmul_size": args.matmul_size,
        "gflops": {
            dtype: matmul_gflops(dtype, args.matmul_size)
            for dtype in ("float32", "bfloat16")
        },
    }


WORKERS = {
    "ceiling": run_ceiling,
    "albert_mlm": run_albert_mlm,
    "keras_hub": run_keras_hub,
    "transformers": run_transformers,
}


def run_worker(args):
    """Subprocess entry: run one measurement, write its JSON into the workdir."""
    workdir = Path(args.workdir)
    result = WORKERS[args.worker](workdir, args)
    result["status"] = "ok"
    result["peak_rss_mib"] = peak_rss_mib()
    (workdir / f"{args.worker}.json").write_text(json.dumps(result))


# === Orchestration ===


def missing_modules(name):
    return [
        module
        for module in REQUIRED_MODULES[name]
        if importlib.util.find_spec(module) is None
    ]


def run_in_subprocess(name, workdir):
    """Runs this script as worker `name`; its result, or why there is none."""
    print(f"[benchmark] running {name} ...", file=sys.stderr, flush=True)
    command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    command += ["--worker", name, "--workdir", str(workdir)]
    environment = dict(os.environ)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    completed = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False
    )
    result_file = workdir / f"{name}.json"
    if completed.returncode == 0 and result_file.exists():
        return json.loads(result_file.read_text())
    error_lines = [line for line in completed.stderr.splitlines() if line.strip()]
    print("\n".join(error_lines[-15:]), file=sys.stderr)
    reason = error_lines[-1] if error_lines else f"exit code {completed.returncode}"
    return {"status": "failed", "reason": reason}


RATE_KEYS = ("train_tokens", "predict_tokens", "preprocess_strings")


def combine_rounds(round_results):
    """One result from an implementation's rounds: median rates, peak memory.

    Each rate's `rounds` lists every round's rate; `per_second` is their
    median and `median_seconds` and `seconds` come from the median round.
    """
    failed = [result for result in round_results if result.get("status") != "ok"]
    if failed:
        return failed[0]
    combined = dict(round_results[0])
    for key in RATE_KEYS:
        by_rate = sorted(round_results, key=lambda result: result[key]["per_second"])
        combined[key] = dict(by_rate[(len(by_rate) - 1) // 2][key])
        combined[key]["per_second"] = statistics.median(
            result[key]["per_second"] for result in round_results
        )
        combined[key]["rounds"] = [
            result[key]["per_second"] for result in round_results
        ]
    for key in ("peak_rss_mib", "device_peak_memory_mib"):
        values = [result[key] for result in round_results if result[key] is not None]
        combined[key] = max(values) if values else None
    return combined


def add_derived_numbers(results, ceiling, flops, args):
    """Fraction of the matmul ceiling reached, per implementation."""
    ceiling_dtype = "bfloat16" if args.precision == "mixed_bfloat16" else "float32"
    peak = ceiling.get("gflops", {}).get(ceiling_dtype)
    for result in results.values():
        if result["status"] != "ok":
            continue
        for key, flops_per_token in (
            ("train_tokens", flops["train"]),
            ("predict_tokens", flops["forward"]),
        ):
            achieved = result[key]["per_second"] * flops_per_token / 1e9
            result[key]["gflops"] = achieved
            result[key]["fraction_of_ceiling"] = achieved / peak if peak else None


def ratios(results):
    """ours / theirs for each measurement and each other implementation.

    With several rounds, the median of the rounds' ratios: each compares two
    runs made one after the other, under the same machine conditions.
    """
    ours = results.get("albert_mlm", {})
    table = {}
    for key in RATE_KEYS:
        table[key] = {}
        for name in IMPLEMENTATIONS[1:]:
            theirs = results.get(name, {})
            if ours.get("status") == "ok" and theirs.get("status") == "ok":
                ours_rounds = ours[key].get("rounds", [ours[key]["per_second"]])
                theirs_rounds = theirs[key].get("rounds", [theirs[key]["per_second"]])
                table[key][name] = statistics.median(
                    a / b for a, b in zip(ours_rounds, theirs_rounds)
                )
            else:
                table[key][name] = None
    return table


# === Report ===


def format_rate(value):
    return "-" if value is None else f"{value:,.0f}"


def format_fraction(value):
    return "-" if value is None else f"{100 * value:.1f}%"


def format_mib(value):
    return "-" if value is None else f"{value:,.0f}"


def print_report(report):
    setup, ceiling, flops = report["setup"], report["ceiling"], report["flops"]
    print(
        f"ALBERT masked-LM benchmark: architecture {setup['architecture']} "
        f"(vocabulary {setup['model_config']['vocabulary_size']}), "
        f"precision {setup['precision']}, batch {setup['batch_size']} x "
        f"sequence {setup['sequence_length']}, "
        f"{setup['mask_selection_length']} masked positions, "
        f"Keras backend {setup['keras_backend']}, "
        f"{setup['rounds']} round(s) per implementation"
    )
    if ceiling.get("status") == "ok":
        gflops = ceiling["gflops"]
        print(
            f"matmul ceiling ({ceiling['matmul_size']}^2, keras.ops.matmul on "
            f"{ceiling['device']}): float32 {gflops['float32']:,.1f} GFLOP/s, "
            f"bfloat16 {gflops['bfloat16']:,.1f} GFLOP/s"
        )
        bound = ceiling["model_matmul_bound"]
        print(
            f"the model's matmuls alone ({bound['dtype']}, same shapes, nothing "
            f"else): {format_rate(bound['predict_tokens']['per_second'])} tok/s "
            "forward, so at most about "
            f"{format_rate(bound['predict_tokens']['per_second'] / 3)} tok/s "
            "training (3 x the matmul work)"
        )
    else:
        print(f"matmul ceiling: failed ({ceiling.get('reason')})")
    print(
        f"model FLOPs per token: forward {flops['forward'] / 1e6:,.2f} M, "
        f"train {flops['train'] / 1e6:,.2f} M"
    )
    print()
    header = (
        f"{'implementation':<22}{'train tok/s':>13}{'% ceil':>9}"
        f"{'predict tok/s':>15}{'% ceil':>9}{'preproc str/s':>15}"
        f"{'peak RSS MiB':>14}{'device MiB':>12}  device"
    )
    print(header)
    print("-" * len(header))
    for name, result in report["implementations"].items():
        if result["status"] == "skipped":
            print(f"{name:<22}{result['reason']}, skipped")
            continue
        if result["status"] == "failed":
            print(f"{name:<22}failed: {result['reason']}")
            continue
        label = f"{name} {result['version']}"
        train, predict = result["train_tokens"], result["predict_tokens"]
        print(
            f"{label:<22}{format_rate(train['per_second']):>13}"
            f"{format_fraction(train['fraction_of_ceiling']):>9}"
            f"{format_rate(predict['per_second']):>15}"
            f"{format_fraction(predict['fraction_of_ceiling']):>9}"
            f"{format_rate(result['preprocess_strings']['per_second']):>15}"
            f"{format_mib(result['peak_rss_mib']):>14}"
            f"{format_mib(result['device_peak_memory_mib']):>12}"
            f"  {result['framework']}, {result['device']}"
        )
    print()
    print(f"{'ours / theirs':<22}{'train':>10}{'predict':>10}{'preprocess':>12}")
    for name in IMPLEMENTATIONS[1:]:
        values = [report["ratios"][key][name] for key in report["ratios"]]
        cells = ["-" if v is None else f"{v:.2f}x" for v in values]
        print(f"{'vs ' + name:<22}{cells[0]:>10}{cells[1]:>10}{cells[2]:>12}")
    if ceiling.get("status") == "ok":
        bound = ceiling["model_matmul_bound"]["predict_tokens"]["per_second"]
        for name in IMPLEMENTATIONS[1:]:
            result = report["implementations"][name]
            if result["status"] != "ok":
                continue
            train = bound / 3 / result["train_tokens"]["per_second"]
            predict = bound / result["predict_tokens"]["per_second"]
            print(
                f"{'bound vs ' + name:<22}{train:>9.2f}x{predict:>9.2f}x"
                "  (matmuls alone / theirs: the most any implementation reaches)"
            )
    print()
    print("notes:")
    for note in NOTES:
        print(f"- {note}")


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_benchmark(args):
    config = model_config(args)
    flops_forward = forward_flops_per_token(
        config, args.sequence_length, args.mask_selection_length
    )
    flops = {"forward": flops_forward, "train": 3 * flops_forward}
    with tempfile.TemporaryDirectory(prefix="albert_benchmark_") as directory:
        workdir = Path(directory)
        write_shared_inputs(workdir, config, args)
        ceiling = run_in_subprocess("ceiling", workdir)
        results, runnable = {}, []
        for name in IMPLEMENTATIONS:
            if name not in args.implementations:
                results[name] = {"status": "skipped", "reason": "not requested"}
            elif missing := missing_modules(name):
                reason = f"{', '.join(missing)} not installed"
                print(f"[benchmark] {name}: {reason}, skipped", file=sys.stderr)
                results[name] = {"status": "skipped", "reason": reason}
            else:
                runnable.append(name)
        rounds = {name: [] for name in runnable}
        for round_index in range(args.rounds):
            # Alternate the order, so that a machine slowly speeding up or
            # slowing down favours no implementation.
            order = runnable if round_index % 2 == 0 else runnable[::-1]
            for name in order:
                rounds[name].append(run_in_subprocess(name, workdir))
        results.update({name: combine_rounds(rounds[name]) for name in runnable})
    add_derived_numbers(results, ceiling, flops, args)
    return {
        "setup": {
            "architecture": args.architecture,
            "model_config": config,
            "precision": args.precision,
            "batch_size": args.batch_size,
            "sequence_length": args.sequence_length,
            "mask_selection_length": args.mask_selection_length,
            "steps": args.steps,
            "warmup_steps": args.warmup_steps,
            "rounds": args.rounds,
            "num_strings": args.num_strings,
            "preprocess_passes": args.preprocess_passes,
            "keras_backend": ceiling.get("backend", os.environ.get("KERAS_BACKEND")),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "packages": {
                name: package_version(name)
                for name in (
                    "keras",
                    "tensorflow",
                    "jax",
                    "torch",
                    "keras-hub",
                    "transformers",
                )
            },
            "command": [Path(sys.executable).name, *sys.argv],
        },
        "ceiling": ceiling,
        "flops": flops,
        "implementations": results,
        "ratios": ratios(results),
        "notes": list(NOTES),
    }


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--architecture",
        default="base",
        choices=architecture_names(),
        help="a shape of albert_mlm.architectures.PRETRAINING_ARCHITECTURES "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--precision",
        default="float32",
        choices=("float32", "mixed_bfloat16"),
        help="Keras dtype policy; torch.autocast(bfloat16) for transformers "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--sequence-length", type=int, default=128, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--mask-selection-length",
        type=int,
        help="masked positions per sequence (default: round(0.15 * length))",
    )
    parser.add_argument(
        "--steps", type=int, default=20, help="timed steps (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup-steps",
        type=int,
        default=3,
        help="untimed steps first (default: %(default)s)",
    )
    parser.add_argument(
        "--vocabulary-size",
        type=int,
        help=f"(default: {TINY_VOCABULARY_SIZE} for tiny, "
        f"{PUBLISHED_VOCABULARY_SIZE} otherwise)",
    )
    parser.add_argument(
        "--num-strings",
        type=int,
        default=2048,
        help="lines per preprocessing pass (default: %(default)s)",
    )
    parser.add_argument(
        "--preprocess-passes",
        type=int,
        default=3,
        help="timed passes, after one untimed (default: %(default)s)",
    )
    parser.add_argument(
        "--matmul-size",
        type=int,
        default=2048,
        help="square matrix size of the ceiling (default: %(default)s)",
    )
    parser.add_argument(
        "--implementations",
        nargs="+",
        default=IMPLEMENTATIONS,
        choices=IMPLEMENTATIONS,
        help="(default: all three)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every implementation this many times, alternating the "
        "order; report medians (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--json", help="write every number to this JSON file")
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mask_selection_length is None:
        args.mask_selection_length = max(
            1, round(MASK_SELECTION_RATE * args.sequence_length)
        )
    max_length = model_config(args)["max_sequence_length"]
    if not 3 <= args.sequence_length <= max_length:
        parser.error(f"--sequence-length must be in [3, {max_length}]")
    if not 1 <= args.mask_selection_length <= args.sequence_length - 2:
        parser.error("--mask-selection-length must be in [1, sequence length - 2]")
    for name in ("batch_size", "steps", "num_strings", "preprocess_passes", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def main():
    args = parse_args()
    if args.worker:
        run_worker(args)
        return
    report = run_benchmark(args)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
