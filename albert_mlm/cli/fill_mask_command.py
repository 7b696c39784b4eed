"""`albert-mlm fill-mask`: the likeliest words for each `[MASK]` in a text."""

import json
import math

from albert_mlm.cli.options import add_subcommand, positive_int
from albert_mlm.presets.registry import DEFAULT_PRESET


def add_parser(commands):
    parser = add_subcommand(commands, "fill-mask", "fill [MASK] tokens in text", run)
    parser.add_argument("text", nargs="+", help="text with one or more [MASK]")
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="the model to use")
    parser.add_argument(
        "--top-k", type=positive_int, default=5, help="candidates per [MASK]"
    )
    parser.add_argument(
        "--sequence-length",
        type=positive_int,
        help="longest text in tokens, [CLS] and [SEP] included (default: the "
        "preset's); at most the model's max_sequence_length",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead"
    )


def run(args):
    from albert_mlm import AlbertMaskedLM
    from albert_mlm.fill_mask import fill_mask

    overrides = {}
    if args.sequence_length is not None:
        overrides["sequence_length"] = args.sequence_length
    masked_lm = AlbertMaskedLM.from_preset(args.preset, **overrides)
    results = fill_mask(masked_lm, args.text, top_k=args.top_k)
    if args.json:
        entries = [{"text": t, "masks": r} for t, r in zip(args.text, results)]
        print(json.dumps(_finite(entries), allow_nan=False))
        return
    for text, masks in zip(args.text, results):
        print(text)
        for index, candidates in enumerate(masks, start=1):
            shown = "  ".join(
                f"{_shown(c)} ({c['probability']:.3f})" for c in candidates
            )
            print(f"  [MASK] {index}: {shown}")


def _shown(candidate):
    """A candidate as read: a piece that continues a word is marked `##`."""
    if candidate["piece"].startswith("\u2581"):
        return candidate["token"]
    return "##" + candidate["token"]


def _finite(value):
    """`value` with NaN and infinities as `null` (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
