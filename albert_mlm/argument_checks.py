"""Constructor-argument checks with errors that say what to change.

Every check raises `ValueError` (a bad value) or `TypeError` (a bad kind of
object) naming the argument, the value received and what is allowed, so a
user can fix a call without reading our source. Constructors call them in
`__init__`. (The checks of model inputs live beside the models, in
`models/input_checks.py`.)

>>> require_positive_int("num_layers", 12)
12
"""

import inspect
import numbers
import os

import numpy as np


def require_positive_int(name, value):
    """Return `value` if it is an integer >= 1, else raise `ValueError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r:.80}"
        )
    return int(value)


def require_rate(name, value, allow_one=True):
    """Return `value` if it is a number in [0, 1] (or [0, 1)), else raise."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (is_number and 0 <= value and (value <= 1 if allow_one else value < 1)):
        allowed = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(
            f"`{name}` must be a number in {allowed}. Received: {name}={value!r:.80}"
        )
    return float(value)


def require_choice(name, value, choices):
    """Return `value` if it is one of `choices`, else raise `ValueError`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. Received: {name}={value!r:.80}"
        )
    return value


def require_bool(name, value):
    """Return `value` if it is a bool, else raise `TypeError`."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"`{name}` must be True or False. Received: {name}={value!r:.80} "
            f"of type {type(value).__name__}"
        )
    return bool(value)


def constructor_arguments(cls):
    """`{name: default}` of `cls.__init__`'s named arguments, in order.

    Arguments without a default map to `inspect.Parameter.empty`; `self`,
    `**kwargs` and keyword-only arguments (settings of the moment, such as a
    task's `compile`, not part of its config) are left out. The one place our
    code learns a class's arguments, so a list of them is never written twice.

    >>> from albert_mlm import AlbertTokenizer
    >>> constructor_arguments(AlbertTokenizer)
    {'proto': None, 'sequence_length': None, 'lowercase': True}
    """
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {
        parameter.name: parameter.default
        for parameter in parameters
        if parameter.kind
        in (parameter.POSITIONAL_OR_KEYWORD, parameter.POSITIONAL_ONLY)
    }


def physical_memory_bytes():
    """This machine's physical memory, or `None` where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def require_fits_in_memory(what, needed_bytes, arguments):
    """Refuse at once a configuration whose `what` alone would not fit in this
    machine's memory (rather than failing after minutes of allocating).

    Args:
        what: what needs the memory, for the message.
        needed_bytes: how much it needs.
        arguments: `{name: value}` of the arguments that set the size.
    """
    available = physical_memory_bytes()
    if available is not None and needed_bytes > available:
        settings = ", ".join(
            f"{name}={value!r:.20}" for name, value in arguments.items()
        )
        raise ValueError(
            f"{what} would need about {_size(needed_bytes)}, more than this "
            f"machine's {_size(available)} of memory. Received: {settings}"
        )


def _size(nbytes):
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{nbytes:,.0f} bytes"
