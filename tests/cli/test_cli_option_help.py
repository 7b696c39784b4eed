"""Help of the command line (`albert_mlm.cli.build_parser`, `cli/options.py`):
every argument of every subcommand has help text, and every option with a
default shows it as "(default: ...)" in the subcommand's `--help`."""

import argparse

import pytest

from albert_mlm.cli import build_parser


def _subcommands():
    parser = build_parser()
    (commands,) = [
        action
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    return commands.choices


def _arguments():
    """(command, argument name, action) of every argument but `--help`."""
    return [
        (
            name,
            action.option_strings[-1] if action.option_strings else action.dest,
            action,
        )
        for name, subparser in _subcommands().items()
        for action in subparser._actions
        if not isinstance(action, argparse._HelpAction)
    ]


def _options_with_defaults():
    found = []
    for command, option, action in _arguments():
        if not action.option_strings or action.default in (None, argparse.SUPPRESS):
            continue
        if isinstance(action, argparse._StoreTrueAction):
            continue  # A flag's default (off) is what its absence says.
        found.append(pytest.param(command, option, id=f"{command} {option}"))
    return found


def test_every_subcommand_is_listed():
    assert set(_subcommands()) == {
        "fill-mask", "score", "pretrain", "evaluate", "convert", "export",
        "upload", "presets",
    }  # fmt: skip


@pytest.mark.parametrize(
    "command, argument, action",
    [pytest.param(*entry, id=f"{entry[0]} {entry[1]}") for entry in _arguments()],
)
def test_every_argument_has_help(command, argument, action):
    assert isinstance(action.help, str) and action.help.strip(), (
        f"albert-mlm {command} {argument} has no help"
    )
    assert action.help is not argparse.SUPPRESS


@pytest.mark.parametrize("command, option", _options_with_defaults())
def test_options_with_a_default_show_it(command, option):
    subparser = _subcommands()[command]
    (action,) = [a for a in subparser._actions if option in a.option_strings]
    shown = " ".join(subparser.format_help().split())
    help_text = " ".join(action.help.split())
    assert f"{help_text} (default: {action.default})" in shown


def test_the_tested_options_include_strings_and_integers():
    # The parametrization above is not empty, and covers both kinds.
    tested = {(param.values[0], param.values[1]) for param in _options_with_defaults()}
    assert {("fill-mask", "--preset"), ("fill-mask", "--top-k")} <= tested
    assert {("evaluate", "--batch-size"), ("pretrain", "--batch-size")} <= tested
