"""Opening paths inside the roots without ever following a symbolic link.

`Roots.locate` resolves the requested path once; here every component is then opened relative
to the previous directory's descriptor with `O_NOFOLLOW`, starting from the root's own
descriptor (checked to be the same directory as at startup). A component that has become a
symlink or a non-directory since the check fails to open, so a link swapped in between check
and use is refused rather than followed. What is finally opened is `fstat`-checked: only
regular files are read or replaced, so FIFOs, devices and sockets are never read (and are
opened with `O_NONBLOCK`, never waited on).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from mcpcloud.errors import ConfigError
from mcpcloud.packs.roots import Located, RefusedPathError, Roots

POSIX = os.name == "posix"
_flag = os.__dict__.get  # absent on Windows, where `require_posix` stops the packs before any use
NOFOLLOW = _flag("O_NOFOLLOW", 0)
CLOEXEC = _flag("O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | _flag("O_DIRECTORY", 0) | NOFOLLOW | CLOEXEC
READ_FLAGS = os.O_RDONLY | NOFOLLOW | _flag("O_NONBLOCK", 0) | _flag("O_NOCTTY", 0) | CLOEXEC


def require_posix(pack: str) -> None:
    if not POSIX or not NOFOLLOW:
        raise ConfigError(f"pack {pack!r} needs a POSIX system (Linux, macOS): it opens paths without following links")


GIT_DIR = ".git"


def kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


class MissingPathError(RefusedPathError):
    """The path (or a directory on the way) does not exist."""


def refuse_os_error(exc: OSError, shown: str) -> RefusedPathError:
    if exc.errno == errno.ENOENT:
        return MissingPathError(f"{shown}: no such file or directory.")
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return RefusedPathError(
            f"{shown}: a component is a symbolic link or not a directory (it may have changed while being "
            "opened); symbolic links are not followed here."
        )
    if exc.errno == errno.EACCES or exc.errno == errno.EPERM:
        return RefusedPathError(f"{shown}: permission denied.")
    if exc.errno == errno.EEXIST:
        return RefusedPathError(f"{shown}: already exists.")
    if exc.errno == errno.EISDIR:
        return RefusedPathError(f"{shown}: is a directory.")
    if exc.errno == errno.ENOTEMPTY:
        return RefusedPathError(f"{shown}: directory not empty.")
    return RefusedPathError(f"{shown}: {os.strerror(exc.errno or 0) or exc}.")


class Walker:
    def __init__(self, roots: Roots) -> None:
        self.roots = roots
        self.identities = {root: _identity(os.stat(root)) for root in roots.paths}

    def locate(self, requested: str) -> Located:
        return self.roots.locate(requested)

    def _open_root(self, root: str) -> int:
        fd = os.open(root, DIR_FLAGS)
        if _identity(os.fstat(fd)) != self.identities[root]:
            os.close(fd)
            raise RefusedPathError(f"The allowed directory {root} was replaced since startup; restart mcpcloud.")
        return fd

    @contextmanager
    def directory(self, located: Located) -> Iterator[int]:
        """A descriptor of the directory `located` names, every component opened without following links."""
        fd = self._open_root(located.root)
        try:
            for index, part in enumerate(located.parts):
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise refuse_os_error(exc, os.path.join(located.root, *located.parts[: index + 1])) from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @contextmanager
    def parent(self, located: Located) -> Iterator[tuple[int, str]]:
        """(descriptor of the containing directory, final name); refuses a root itself."""
        if not located.parts:
            raise RefusedPathError(f"{located.path} is an allowed directory itself; name something inside it.")
        with self.directory(Located(located.root, located.parts[:-1])) as fd:
            yield fd, located.parts[-1]

    @contextmanager
    def regular_file(self, located: Located) -> Iterator[tuple[int, os.stat_result]]:
        """An open regular file; anything else (FIFO, device, socket, directory, link) is refused unopened."""
        with self.parent(located) as (parent, name):
            try:
                before = os.stat(name, dir_fd=parent, follow_symlinks=False)
                if not stat.S_ISREG(before.st_mode):
                    raise RefusedPathError(f"{located.path} is {kind(before.st_mode)}, not a regular file; refused.")
                fd = os.open(name, READ_FLAGS, dir_fd=parent)
            except OSError as exc:
                raise refuse_os_error(exc, located.path) from None
            try:
                opened = os.fstat(fd)
                if not stat.S_ISREG(opened.st_mode) or _identity(opened) != _identity(before):
                    raise RefusedPathError(f"{located.path} changed while being opened; refused.")
                os.set_blocking(fd, True)
                yield fd, opened
            finally:
                os.close(fd)

    def lstat(self, located: Located) -> os.stat_result:
        if not located.parts:
            with self.directory(located) as fd:
                return os.fstat(fd)
        with self.parent(located) as (parent, name):
            try:
                return os.stat(name, dir_fd=parent, follow_symlinks=False)
            except OSError as exc:
                raise refuse_os_error(exc, located.path) from None


def refuse_git_internals(located: Located) -> None:
    """Writes inside `.git` are refused: its config and hooks name programs that git would run."""
    if GIT_DIR in located.parts:
        raise RefusedPathError(
            f"{located.path} is inside a .git directory; writing there could make git run programs "
            "(config, hooks), so it is refused. Use git itself for repository changes."
        )


def _identity(result: os.stat_result) -> tuple[int, int]:
    return result.st_dev, result.st_ino
