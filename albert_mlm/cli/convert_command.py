"""`albert-mlm convert`: any preset handle `from_preset` reads -> a preset folder.

The pretraining records of a preset made by `albert-mlm pretrain`
(`pretraining.json`, `training_log.csv`, `training_curve.png` and the
`"pretraining"` entry of `metadata.json`) travel with it.
"""

import json
import os
import sys

from albert_mlm.cli.options import add_subcommand


def add_parser(commands):
    parser = add_subcommand(
        commands, "convert", "any preset handle or directory -> a preset directory", run
    )
    parser.add_argument(
        "source", help="a preset name, kaggle:// or hf:// handle, or directory"
    )
    parser.add_argument("destination", help="the preset directory to write")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the destination if it is an existing preset (a directory "
        "that is not a preset is never replaced)",
    )


def run(args):
    import warnings

    from albert_mlm import AlbertMaskedLM
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
        masked_lm = AlbertMaskedLM.from_preset(args.source)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    source = resolve_preset(args.source)
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
