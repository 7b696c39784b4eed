"""`albert-mlm convert`: any preset handle `from_preset` reads -> a preset folder.

`--format` picks what is written (`FORMATS`): a KerasHub preset (the
default) or a Hugging Face transformers checkpoint, `AlbertForPreTraining`
when the source has a sentence-order head, else `AlbertForMaskedLM`, with
its tokenizer's files. For a KerasHub preset, the pretraining records of a
preset made by `albert-mlm pretrain` (`pretraining.json`, `training_log.csv`,
`training_curve.png` and the `"pretraining"` entry of `metadata.json`) travel
with it.
"""

import json
import os
import sys

from albert_mlm.cli.options import add_subcommand

# `--format` value -> what it writes (the help lists them).
FORMATS = {
    "keras_hub": "a KerasHub preset directory",
    "transformers": "a Hugging Face transformers checkpoint (AlbertForMaskedLM, "
    "or AlbertForPreTraining with a sentence-order head)",
}


def add_parser(commands):
    parser = add_subcommand(
        commands, "convert", "any preset handle or directory -> a preset directory", run
    )
    parser.add_argument(
        "source", help="a preset name, kaggle:// or hf:// handle, or directory"
    )
    parser.add_argument("destination", help="the preset directory to write")
    parser.add_argument(
        "--format",
        choices=list(FORMATS),
        default="keras_hub",
        help="what to write: "
        + "; ".join(f"{name}: {what}" for name, what in FORMATS.items()),
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the destination if it is an existing preset or export (a "
        "directory that is neither is never replaced)",
    )


def run(args):
    import warnings

    from albert_mlm.presets.handles import resolve_preset
    from albert_mlm.presets.saving import PRETRAINING_RECORDS, save_task

    destination = os.path.realpath(args.destination)
    if os.path.isdir(args.source) and os.path.realpath(args.source) == destination:
        raise ValueError(
            f"The destination {args.destination!r} is the source itself; choose "
            "another directory."
        )
    if os.path.exists(destination) and not args.force:
        if not os.path.isdir(destination) or os.listdir(destination):
            raise FileExistsError(
                f"The destination {args.destination!r} already exists; pass "
                "--force to replace it (only a preset directory is replaced)."
            )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = resolve_preset(args.source)
        task_cls = _task_class(source, args.format)
        masked_lm = task_cls.from_preset(args.source)
        if args.format == "transformers":
            masked_lm.export_to_transformers(destination)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    if args.format == "transformers":
        print(
            f"Wrote {args.destination} (transformers format, from {task_cls.__name__})"
        )
        return
    records = [
        os.path.join(source, name)
        for name in PRETRAINING_RECORDS
        if os.path.isfile(os.path.join(source, name))
    ]
    save_task(
        masked_lm,
        destination,
        extra_metadata=_pretraining_metadata(source),
        replace=True,
        extra_files=records,
    )
    print(f"Wrote {args.destination}")


def _task_class(source, output_format):
    """`AlbertPreTrainer` for a transformers export of a source with a
    sentence-order head (an `AlbertPreTrainer` preset or an
    `AlbertForPreTraining` checkpoint), else `AlbertMaskedLM`."""
    from albert_mlm import AlbertMaskedLM, AlbertPreTrainer

    if output_format != "transformers":
        return AlbertMaskedLM
    found = []
    for name, key in (("task.json", "class_name"), ("config.json", "architectures")):
        try:
            with open(os.path.join(source, name), encoding="utf-8") as file:
                found.append(json.load(file).get(key))
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
    has_order_head = "AlbertPreTrainer" in found or any(
        isinstance(value, list) and "AlbertForPreTraining" in value for value in found
    )
    return AlbertPreTrainer if has_order_head else AlbertMaskedLM


def _pretraining_metadata(source):
    """`{"pretraining": ...}` from the source's `metadata.json`, if it has one."""
    try:
        with open(os.path.join(source, "metadata.json"), encoding="utf-8") as file:
            metadata = json.load(file)
    except (OSError, ValueError, RecursionError):
        return None
    if isinstance(metadata, dict) and "pretraining" in metadata:
        return {"pretraining": metadata["pretraining"]}
    return None
