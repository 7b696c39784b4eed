"""`albert-mlm upload DIR URI`: publish a preset directory on a model hub.

albert-mlm upload my_albert hf://someone/my-albert
albert-mlm upload my_albert kaggle://someone/my-albert/keras/base

The clients' own credentials are used (`HF_TOKEN` or `hf auth login`;
`KAGGLE_USERNAME` and `KAGGLE_KEY`, or `~/.kaggle/kaggle.json`); see
`albert_mlm.presets.upload` for what is checked before anything is sent.
"""

from albert_mlm.cli.options import add_subcommand


def add_parser(commands):
    parser = add_subcommand(
        commands,
        "upload",
        "publish a preset directory on Kaggle or the Hugging Face Hub",
        run,
    )
    parser.add_argument("directory", help="the preset directory to publish")
    parser.add_argument(
        "uri", help="hf://owner/name or kaggle://owner/model/keras/variation"
    )
    parser.add_argument(
        "--version-notes",
        help="Kaggle's version notes and the Hugging Face commit message "
        "(by default 'albert_mlm <version> preset')",
    )


def run(args):
    from albert_mlm.presets.upload import upload_preset

    if args.directory.startswith(("hf://", "kaggle://")):
        raise ValueError(
            f"albert-mlm upload takes the directory first, then the handle "
            f"(albert-mlm upload DIR URI); received {args.directory!r:.200} first."
        )
    url = upload_preset(args.uri, args.directory, version_notes=args.version_notes)
    print(f"Uploaded {args.directory} to {args.uri} ({url})")
