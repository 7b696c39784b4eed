"""Command-line options: types that validate where a value enters, help that
shows defaults, and options made from a dataclass's fields.

>>> positive_int("3")
3
"""

import argparse
import dataclasses


def positive_int(text):
    """An argparse type: an integer >= 1."""
    return _integer_at_least(text, 1)


def _integer_at_least(text, minimum):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer, got {text!r:.40}"
        ) from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def integer_at_least(minimum):
    """An argparse type: an integer >= `minimum`."""

    def parse(text):
        return _integer_at_least(text, minimum)

    parse.__name__ = f"integer >= {minimum}"
    return parse


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default after its help, where it has one."""

    def _get_help_string(self, action):
        # `is` tests: a default of 0 (== False) is shown, a flag's False not.
        shown = not any(action.default is value for value in (None, False))
        shown = shown and action.default != argparse.SUPPRESS
        if shown and action.option_strings and "%(default)" not in action.help:
            return f"{action.help} (default: %(default)s)"
        return action.help


def add_subcommand(commands, name, help, run):
    """A subcommand parser whose `--help` shows defaults, running `run(args)`."""
    parser = commands.add_parser(
        name, help=help, description=help, formatter_class=HelpFormatter
    )
    parser.set_defaults(run=run)
    return parser


def add_dataclass_options(parser, options_class):
    """One option per field of `options_class`, with its help and default.

    Field metadata carries the help and argparse settings (`choices`,
    `metavar`, `minimum`); fields sharing an `exclusive_group` exclude each
    other, and `cli=False` keeps a field off the command line. `choices` may
    be a registry (a dict such as `MASK_STRATEGIES`): argparse reads it when
    parsing and printing help, so an entry added later is a choice too.
    """
    groups = {}
    for field in dataclasses.fields(options_class):
        settings = dict(field.metadata)
        if not settings.pop("cli", True):
            continue
        group_name = settings.pop("exclusive_group", None)
        minimum = settings.pop("minimum", None)
        # Numbers' bounds are checked where the options are made.
        for bound in ("above", "at_least", "rate"):
            settings.pop(bound, None)
        target = parser
        if group_name is not None:
            if group_name not in groups:
                groups[group_name] = parser.add_mutually_exclusive_group()
            target = groups[group_name]
        if field.default is dataclasses.MISSING:
            settings["required"] = True
            if field.type is list:
                settings["nargs"] = "+"
        elif field.type is bool:
            settings["action"] = "store_true"
        else:
            settings["default"] = field.default
            settings["type"] = _argument_type(field.type, minimum)
        target.add_argument("--" + field.name.replace("_", "-"), **settings)


def _argument_type(annotation, minimum):
    """The argparse type of a field: `int` for `int | None`, and so on."""
    types = getattr(annotation, "__args__", (annotation,))
    if int in types:
        return integer_at_least(minimum) if minimum is not None else int
    if float in types:
        return float
    return str
