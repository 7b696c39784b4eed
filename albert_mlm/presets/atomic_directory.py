"""Replace a directory's content in one atomic step, one writer at a time.

`replace_atomically(target, fill)` lets `fill` write into a fresh hidden
staging directory beside `target` (starting as a copy of `target` when asked),
then swaps the two in one atomic exchange (Linux `renameat2`; elsewhere two
renames). An error or a crash midway leaves `target` as it was and no staging
directory behind. Writers in several processes take turns: each holds an
exclusive lock on the parent directory from its first look at `target` to
its swap, so the second finds the first's result rather than a half-made one.

>>> import os, tempfile
>>> target = os.path.join(tempfile.mkdtemp(), "preset")
>>> replace_atomically(target, lambda staging: open(
...     os.path.join(staging, "config.json"), "w").close())
>>> os.listdir(target)
['config.json']
"""

import contextlib
import ctypes
import errno
import os
import secrets
import shutil

try:
    import fcntl
except ImportError:  # Not on Windows: saves there are not serialised.
    fcntl = None


def replace_atomically(target, fill, keep_existing=False, check_existing=None):
    """Give `target` the content `fill(staging)` writes, atomically.

    Args:
        target: the directory to create or replace.
        fill: called with the staging directory's path.
        keep_existing: start from a copy of `target`'s files (symbolic links
            copied as links) instead of an empty directory.
        check_existing: called with `target` (an existing directory), under
            the lock, before anything is written; raises to refuse it.
    """
    target = os.path.realpath(os.fspath(target))
    parent = os.path.dirname(target)
    if os.path.exists(target) and not os.path.isdir(target):
        raise FileExistsError(f"{target!r} exists and is not a directory.")
    os.makedirs(parent, exist_ok=True)
    require_writable(parent)
    with _locked(parent):
        exists = os.path.isdir(target)
        if exists:
            require_writable(target)
            if check_existing is not None:
                check_existing(target)
        staging = _new_staging_directory(parent, os.path.basename(target))
        try:
            if exists and keep_existing:
                shutil.copytree(target, staging, symlinks=True, dirs_exist_ok=True)
            fill(staging)
            if exists:
                _exchange(staging, target)  # `staging` now holds the old one.
                shutil.rmtree(staging, ignore_errors=True)
            else:
                os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def require_writable(directory):
    """Refuse a directory marked read-only, even to a superuser."""
    if not os.access(directory, os.W_OK) or not os.stat(directory).st_mode & 0o222:
        raise PermissionError(
            f"Cannot save a preset in {directory!r}: the directory is read-only."
        )


def require_free_space(directory, needed_bytes, what):
    """Refuse to start writing `what` when the disk cannot hold it."""
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    if needed_bytes > free:
        raise OSError(
            errno.ENOSPC,
            f"Not enough disk space for {what} in {directory!r}: it needs about "
            f"{needed_bytes / 1e6:.1f} MB and {free / 1e6:.1f} MB are free",
        )


@contextlib.contextmanager
def _locked(directory):
    if fcntl is None:
        yield
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # Releases the lock.


def _new_staging_directory(parent, name):
    """A fresh hidden directory beside the target (permissions from the umask,
    unlike `tempfile.mkdtemp`'s owner-only 0o700)."""
    while True:
        staging = os.path.join(parent, f".{name}.{secrets.token_hex(4)}.partial")
        try:
            os.mkdir(staging)
            return staging
        except FileExistsError:
            continue


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(first, second):
    """Swap two directories: in one atomic step on Linux (`renameat2`), so a
    crash at any instant leaves `second` holding one complete directory."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        renameat2 = None
    if renameat2 is not None:
        renameat2.argtypes = [
            ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint
        ]  # fmt: skip
        paths = os.fsencode(first), os.fsencode(second)
        if renameat2(_AT_FDCWD, paths[0], _AT_FDCWD, paths[1], _RENAME_EXCHANGE) == 0:
            return
        error = ctypes.get_errno()
        if error not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(error, os.strerror(error), second)
    # Elsewhere two renames, with a brief moment where `second` is missing.
    retired = first + ".old"
    os.rename(second, retired)
    try:
        os.rename(first, second)
    except BaseException:
        os.rename(retired, second)
        raise
    os.rename(retired, first)
