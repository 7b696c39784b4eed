"""The benchmark's flags, their defaults and their checks."""

import argparse

from model_configuration import (
    PUBLISHED_VOCABULARY_SIZE,
    TINY_VOCABULARY_SIZE,
    architecture_names,
    model_config,
)
from shared_inputs import MASK_SELECTION_RATE
from workers import IMPLEMENTATIONS, WORKERS


def parse_args(description):
    """The parsed flags, `--mask-selection-length` resolved, all checked."""
    parser = make_parser(description)
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
    return parser
