"""`albert-mlm fill-mask`: the likeliest words for each `[MASK]` in a text.

Texts come from the arguments, from `--file`, or from stdin (`-` as the only
text, or no text with stdin not a terminal), one per line. `score` reads its
texts, loads its model and writes JSON the same way, with the helpers here.
"""

import json
import math
import sys

from albert_mlm.cli.options import add_subcommand, positive_int
from albert_mlm.presets.registry import DEFAULT_PRESET


def add_parser(commands):
    parser = add_subcommand(commands, "fill-mask", "fill [MASK] tokens in text", run)
    add_text_arguments(parser, "text with one or more [MASK] (any case)")
    parser.add_argument(
        "--top-k", type=positive_int, default=5, help="candidates per [MASK]"
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        metavar="WORD",
        help="score these words or phrases in each [MASK]'s place instead of "
        "searching the vocabulary (one of several pieces takes as many slots); "
        "put the texts before this option (default: none)",
    )
    parser.add_argument(
        "--joint",
        action="store_true",
        help="fill a text's [MASK]s together, left to right, each given the "
        "ones before: the --top-k best joint fillings",
    )
    add_model_arguments(
        parser,
        json_help="print JSON instead: one document for TEXT arguments, one line "
        "per text for --file or stdin",
    )


def add_text_arguments(parser, text_help):
    """The texts: `TEXT...`, `--file PATH`, or stdin."""
    parser.add_argument(
        "text",
        nargs="*",
        help=f"{text_help}; '-' alone, or none with piped input, reads stdin",
    )
    parser.add_argument(
        "--file",
        metavar="PATH",
        help="read the texts from this UTF-8 file, one per line (blank lines "
        "are skipped) (default: the TEXT arguments)",
    )


def add_model_arguments(parser, json_help):
    """`--preset`, `--sequence-length`, `--batch-size` and `--json`."""
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="the model to use")
    parser.add_argument(
        "--sequence-length",
        type=positive_int,
        help="longest text in tokens, [CLS] and [SEP] included (default: the "
        "preset's); at most the model's max_sequence_length",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="sequences per model call"
    )
    parser.add_argument("--json", action="store_true", help=json_help)


def text_batches(args):
    """`(batches of texts, from_lines)`: the texts in groups of
    `--batch-size`, read lazily from a file or stdin (`from_lines`)."""
    if args.file is not None:
        if args.text:
            raise ValueError(
                f"Give texts as arguments or with --file, not both. Received "
                f"--file {args.file!r} and {len(args.text)} text argument(s)."
            )
        # Opened now, so that a bad path fails before the model loads;
        # "utf-8-sig" drops the byte-order mark some editors write first.
        file = open(args.file, encoding="utf-8-sig")
        return _batches(_lines(file, close=True), args), True
    if args.text == ["-"] or (not args.text and not sys.stdin.isatty()):
        # stdin is the caller's: read to its end, but left open.
        return _batches(_lines(sys.stdin, close=False), args), True
    if not args.text:
        raise ValueError("No text: give TEXT arguments, --file PATH, or pipe text in.")
    return [args.text], False


def load_masked_lm(args):
    from albert_mlm import AlbertMaskedLM

    overrides = {}
    if args.sequence_length is not None:
        overrides["sequence_length"] = args.sequence_length
    return AlbertMaskedLM.from_preset(args.preset, **overrides)


def strict_json(value):
    """`value` as JSON with NaN and infinities as `null` (JSON has no NaN)."""
    return json.dumps(_finite(value), allow_nan=False)


def results_per_text(args, compute):
    """`(from_lines, pairs)`: whether the texts come from a file or stdin,
    and `(text, result)` for each, `compute(masked_lm, texts)` running on
    batches of `--batch-size` texts (checked before the model loads)."""
    batches, from_lines = text_batches(args)
    masked_lm = load_masked_lm(args)

    def pairs():
        for texts in batches:
            yield from zip(texts, compute(masked_lm, texts))

    return from_lines, pairs()


def run(args):
    key = "fillings" if args.joint else "masks"

    def compute(masked_lm, texts):
        return masked_lm.fill_mask(
            texts,
            top_k=args.top_k,
            targets=args.targets,
            batch_size=args.batch_size,
            decoding="joint" if args.joint else "independent",
        )

    from_lines, pairs = results_per_text(args, compute)
    documents = []
    for text, result in pairs:
        if not args.json:
            _print_text(text, result, args.joint)
        elif from_lines:
            print(strict_json({"text": text, key: result}), flush=True)
        else:
            documents.append({"text": text, key: result})
    if args.json and not from_lines:
        print(strict_json(documents))


def _print_text(text, result, joint):
    print(text)
    if joint:
        for rank, filling in enumerate(result, start=1):
            shown = " ".join(_shown(c) for c in filling["tokens"])
            print(f"  {rank}: {shown} (log-probability {filling['score']:.3f})")
        return
    for index, candidates in enumerate(result, start=1):
        shown = "  ".join(f"{_shown(c)} ({_chance(c)})" for c in candidates)
        print(f"  [MASK] {index}: {shown}")


def _chance(candidate):
    """The probability; for a target, also its log-probability (a target of
    several pieces is often far below 0.001)."""
    if "score" in candidate:
        return (
            f"{candidate['probability']:.3g}, log-probability {candidate['score']:.3f}"
        )
    return f"{candidate['probability']:.3f}"


def _shown(candidate):
    """A candidate as read: a piece that continues a word is marked `##`."""
    if candidate["piece"].startswith("\u2581"):
        return candidate["token"]
    return "##" + candidate["token"]


def _lines(file, close):
    try:
        for line in file:
            line = line.rstrip("\r\n")
            if line.strip():
                yield line
    finally:
        if close:
            file.close()


def _batches(lines, args):
    batch = []
    for line in lines:
        batch.append(line)
        if len(batch) == args.batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
