"""The `albert-mlm` command line (also `python -m albert_mlm`).

albert-mlm fill-mask "the [MASK] of the united states."
albert-mlm pretrain --corpus "texts/*.txt" --out my_albert --steps 2000
albert-mlm evaluate --preset my_albert --corpus held_out.txt
albert-mlm convert hf://albert/albert-base-v2 albert_base_v2
albert-mlm presets
"""

import argparse
import dataclasses
import json
import os
import sys

from albert_mlm.training.pretrain_options import PretrainOptions

DEFAULT_PRESET = "albert_tiny_en_uncased"


def _fill_mask(args):
    from albert_mlm import AlbertMaskedLM
    from albert_mlm.fill_mask import fill_mask

    masked_lm = AlbertMaskedLM.from_preset(args.preset)
    results = fill_mask(masked_lm, args.text, top_k=args.top_k)
    if args.json:
        print(json.dumps([{"text": t, "masks": r} for t, r in zip(args.text, results)]))
        return
    for text, masks in zip(args.text, results):
        print(text)
        for index, candidates in enumerate(masks, start=1):
            shown = "  ".join(
                f"{c['token']} ({c['probability']:.3f})" for c in candidates
            )
            print(f"  [MASK] {index}: {shown}")


def _pretrain(args):
    from albert_mlm.training.pretrain import pretrain

    options = PretrainOptions(
        **{
            field.name: getattr(args, field.name)
            for field in dataclasses.fields(PretrainOptions)
            if hasattr(args, field.name)
        }
    )
    results = pretrain(options)
    print(
        f"Saved {args.out}: held-out masked-token top-1 {results['top1']:.3f}, "
        f"top-5 {results['top5']:.3f} (unigram baseline "
        f"{results['unigram_top1']:.3f} / {results['unigram_top5']:.3f})."
    )


def _evaluate(args):
    import tensorflow as tf

    from albert_mlm import AlbertMaskedLM
    from albert_mlm.training.corpus import corpus_files
    from albert_mlm.training.evaluation import evaluate_masked_lm

    masked_lm = AlbertMaskedLM.from_preset(args.preset)
    tf.random.set_seed(args.seed)
    batches = (
        tf.data.TextLineDataset(corpus_files(args.corpus))
        .filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
        .batch(args.batch_size)
        .map(masked_lm.preprocessor)
    )
    results = evaluate_masked_lm(masked_lm, batches)
    print(
        f"masked tokens {results['masked_tokens']}  loss {results['loss']:.4f}  "
        f"top-1 {results['top1']:.4f}  top-5 {results['top5']:.4f}"
    )


def _convert(args):
    import warnings

    from albert_mlm import AlbertMaskedLM

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        masked_lm = AlbertMaskedLM.from_preset(args.source)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    masked_lm.save_to_preset(args.destination)
    print(f"Wrote {args.destination}")


def _presets(args):
    from albert_mlm.presets.registry import BUILT_IN_PRESETS, shipped_presets

    for name, path in sorted(shipped_presets().items()):
        size = sum(
            os.path.getsize(os.path.join(root, file))
            for root, _, files in os.walk(path)
            for file in files
        )
        print(f"{name:40s} shipped, {size / 1e6:.1f} MB on disk   offline: yes")
    for name, info in BUILT_IN_PRESETS.items():
        print(
            f"{name:40s} {info['parameter_count'] / 1e6:.2f}M parameters   "
            f"offline: {'yes' if _in_kaggle_cache(info['kaggle_handle']) else 'no'}"
            f" ({info['kaggle_handle']})"
        )


def _in_kaggle_cache(handle):
    cache = os.environ.get(
        "KAGGLEHUB_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "kagglehub")
    )
    *parts, version = handle[len("kaggle://") :].split("/")
    return os.path.isfile(os.path.join(cache, "models", *parts, f"{version}.complete"))


class _HELP_FORMAT(argparse.HelpFormatter):
    """Shows an option's default after its help, where it has one."""

    def _get_help_string(self, action):
        shown = action.default not in (None, False, argparse.SUPPRESS)
        if shown and action.option_strings and "%(default)" not in action.help:
            return f"{action.help} (default: %(default)s)"
        return action.help


def _add_options(parser, options_class):
    """One command-line option per field of a dataclass, with its help and
    default; fields sharing an `exclusive_group` exclude each other."""
    groups = {}
    for field in dataclasses.fields(options_class):
        settings = dict(field.metadata)
        if not settings.pop("cli", True):
            continue
        group_name = settings.pop("exclusive_group", None)
        target = parser
        if group_name is not None:
            if group_name not in groups:
                groups[group_name] = parser.add_mutually_exclusive_group()
            target = groups[group_name]
        flag = "--" + field.name.replace("_", "-")
        if field.default is dataclasses.MISSING:
            settings["required"] = True
            if field.type is list:
                settings["nargs"] = "+"
        elif field.type is bool:
            settings["action"] = "store_true"
        else:
            settings["default"] = field.default
            settings["type"] = _argument_type(field.type)
        target.add_argument(flag, **settings)


def _argument_type(annotation):
    """`int` for `int` or `int | None`, and so on."""
    for candidate in (int, float, str):
        if annotation is candidate or candidate in getattr(annotation, "__args__", ()):
            return candidate
    raise TypeError(f"No command-line type for {annotation!r}.")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="albert-mlm", description="ALBERT masked-language modelling."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fill = commands.add_parser("fill-mask", help="fill [MASK] tokens in text")
    fill.add_argument("text", nargs="+", help="text with one or more [MASK]")
    fill.add_argument("--preset", default=DEFAULT_PRESET)
    fill.add_argument("--top-k", type=int, default=5)
    fill.add_argument("--json", action="store_true", help="print JSON")
    fill.set_defaults(run=_fill_mask)

    train = commands.add_parser(
        "pretrain",
        help="pretrain a masked LM on text files",
        formatter_class=_HELP_FORMAT,
    )
    _add_options(train, PretrainOptions)
    train.set_defaults(run=_pretrain)

    evaluate = commands.add_parser("evaluate", help="masked-token loss and accuracy")
    evaluate.add_argument("--preset", default=DEFAULT_PRESET)
    evaluate.add_argument("--corpus", nargs="+", required=True, metavar="FILE")
    evaluate.add_argument("--batch-size", type=int, default=64)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(run=_evaluate)

    convert = commands.add_parser("convert", help="any preset handle -> a directory")
    convert.add_argument("source")
    convert.add_argument("destination")
    convert.set_defaults(run=_convert)

    listing = commands.add_parser("presets", help="list presets")
    listing.set_defaults(run=_presets)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, TypeError, OSError, ImportError, RuntimeError) as error:
        print(f"albert-mlm {args.command}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
