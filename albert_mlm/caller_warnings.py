"""Warnings that name the user's line, however deep inside the package the
cause is found.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     warn_at_caller("the corpus is small")
>>> caught[0].filename == __file__ or caught[0].filename.startswith("<doctest")
True
"""

import os
import sys
import warnings

# Frames under this folder are ours; a warning names the first one outside.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message):
    """A `UserWarning` attributed to the first caller outside `albert_mlm`:
    the user's line that called `from_preset` or `fit`, however deep the
    call (a fixed `stacklevel` breaks whenever the call depth changes)."""
    frame, stacklevel = sys._getframe(), 1
    while frame.f_back is not None and _is_ours(frame):
        frame, stacklevel = frame.f_back, stacklevel + 1
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _is_ours(frame):
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)
