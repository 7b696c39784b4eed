"""`albert-mlm pretrain`: pretrain a masked LM on text files."""

import dataclasses

from albert_mlm.cli.options import add_dataclass_options, add_subcommand
from albert_mlm.training.pretrain_options import PretrainOptions


def add_parser(commands):
    parser = add_subcommand(
        commands, "pretrain", "pretrain a masked LM on text files", run
    )
    add_dataclass_options(parser, PretrainOptions)


def run(args):
    from albert_mlm.training.pretrain import pretrain

    options = PretrainOptions(
        **{
            field.name: getattr(args, field.name)
            for field in dataclasses.fields(PretrainOptions)
            if hasattr(args, field.name)
        }
    )
    results = pretrain(options)
    if results is None:  # Not process 0 of a multi-host run: it saved.
        print(f"Trained; process 0 saved {args.out}.")
        return
    print(
        f"Saved {args.out}: held-out masked-token top-1 {results['top1']:.3f}, "
        f"top-5 {results['top5']:.3f} (unigram baseline "
        f"{results['unigram_top1']:.3f} / {results['unigram_top5']:.3f})."
    )
