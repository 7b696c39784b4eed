"""The benchmark's flags, their defaults and their checks."""

import argparse

from model_configuration import (
    PUBLISHED_VOCABULARY_SIZE,
    TINY_VOCABULARY_SIZE,
    architecture_names,
    model_config,
)
from shared_inputs import MASK_SELECTION_RATE
from workers import DEFAULT_IMPLEMENTATIONS, IMPLEMENTATIONS, WORKERS

SUITE_BACKENDS = ("torch", "jax")


def parse_args(description):
    """The parsed flags, defaults of the mode resolved, all checked."""
    parser = make_parser(description)
    args = parser.parse_args()
    resolve_mode_defaults(args)
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
    if args.time_budget <= 0:
        parser.error("--time-budget must be positive")
    return args


def resolve_mode_defaults(args):
    """Defaults that depend on `--device` (the suite) and `--tiny`."""
    suite = args.device is not None
    if args.precision is None:
        args.precision = "mixed_bfloat16" if suite else "float32"
    if args.implementations is None:
        args.implementations = IMPLEMENTATIONS if suite else DEFAULT_IMPLEMENTATIONS
    if args.matmul_size is None:
        # A GPU reaches its peak only on large products.
        args.matmul_size = 8192 if args.device == "cuda" else 2048
    if args.tiny:
        args.steps = min(args.steps, 3)
        args.warmup_steps = min(args.warmup_steps, 1)
        args.matmul_size = min(args.matmul_size, 256)


def make_parser(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--architecture",
        default="base",
        choices=architecture_names(),
        help="a shape of albert_mlm.architectures.PRETRAINING_ARCHITECTURES "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--precision",
        choices=("float32", "mixed_bfloat16"),
        help="Keras dtype policy; torch.autocast(bfloat16) for transformers "
        "(default: mixed_bfloat16 with --device, float32 otherwise)",
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
        help="square matrix size of the ceiling (default: 8192 with --device "
        "cuda, 2048 otherwise)",
    )
    parser.add_argument(
        "--implementations",
        nargs="+",
        choices=IMPLEMENTATIONS,
        help=f"(default: {' '.join(DEFAULT_IMPLEMENTATIONS)}; with --device "
        "also transformers_compiled)",
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
    suite = parser.add_argument_group(
        "the device suite (--device): base at 256x128 and 64x512 and "
        "extra_extra_large at 32x512, on each of --backends, every "
        "implementation; --architecture, --batch-size and --sequence-length "
        "are ignored"
    )
    suite.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        help="run the suite on this device instead of one configuration",
    )
    suite.add_argument(
        "--backends",
        nargs="+",
        default=SUITE_BACKENDS,
        choices=SUITE_BACKENDS,
        help="Keras backends of the suite (default: torch jax)",
    )
    suite.add_argument(
        "--time-budget",
        type=float,
        default=420,
        help="seconds for the whole suite: what no longer fits is skipped "
        "(default: %(default)s)",
    )
    suite.add_argument(
        "--tiny",
        action="store_true",
        help="shrink every configuration (model, batch, length, steps): a "
        "smoke test whose numbers mean nothing",
    )
    suite.add_argument(
        "--jsonl",
        help="write one JSON line per result to this file (emptied first), "
        "each as soon as it is measured; they are printed too",
    )
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    # A suite worker: its configurations (indices) and the suite's deadline.
    parser.add_argument("--configurations", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    return parser
