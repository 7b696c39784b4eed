"""Constructor argument validation with errors that say what to change.

Every check raises `ValueError` naming the argument, the value received and
what is allowed, so a user can fix a call without reading our source.

>>> require_positive_int("num_layers", 12)
12
"""

import numbers


def require_positive_int(name, value):
    """Return `value` if it is an integer >= 1, else raise `ValueError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return int(value)


def require_rate(name, value, allow_one=True):
    """Return `value` if it is a number in [0, 1] (or [0, 1)), else raise."""
    upper_ok = value <= 1 if allow_one else value < 1
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (0 <= value and upper_ok)
    ):
        allowed = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(
            f"`{name}` must be a number in {allowed}. Received: {name}={value!r}"
        )
    return float(value)


def require_choice(name, value, choices):
    """Return `value` if it is one of `choices`, else raise `ValueError`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {sorted(choices)}. Received: {name}={value!r}"
        )
    return value
