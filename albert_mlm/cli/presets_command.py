"""`albert-mlm presets`: the shipped and built-in presets, and which work offline."""

import os

from albert_mlm.cli.options import add_subcommand


def add_parser(commands):
    add_subcommand(
        commands, "presets", "list presets and whether they work offline", run
    )


def run(args):
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
