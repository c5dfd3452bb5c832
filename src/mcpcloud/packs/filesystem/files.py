"""Reading and changing files through `Walker`: size caps, binary detection, atomic replacement."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import secrets
import stat
from collections.abc import Callable

from mcpcloud.packs.roots import Located, RefusedPathError
from mcpcloud.packs.rootwalk import CLOEXEC, DIR_FLAGS, NOFOLLOW, Walker, kind, refuse_git_internals, refuse_os_error

SNIFF_BYTES = 8192


class TooLargeError(RefusedPathError):
    pass


def read_bytes(walker: Walker, located: Located, cap: int, tail: bool = False) -> tuple[bytes, bool]:
    """(content, whole): the file, or with `tail`/oversize handling its last/first `cap` bytes."""
    with walker.regular_file(located) as (fd, info):
        if info.st_size > cap:
            if tail:
                os.lseek(fd, info.st_size - cap, os.SEEK_SET)
            return _read_up_to(fd, cap), False
        data = _read_up_to(fd, cap + 1)
        return data[:cap], len(data) <= cap


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def decode_text(data: bytes, shown: str, cut: bool = False) -> str:
    """UTF-8 text or a refusal; `cut`: the data ends where a cap cut it, maybe inside a character."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise RefusedPathError(f"{shown} looks binary (it contains NUL bytes); use read_media_file for binary files.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")  # a cap cut a character in two
        raise RefusedPathError(
            f"{shown} is not UTF-8 text (invalid byte at offset {exc.start}); use read_media_file for binary files."
        ) from None


def read_text(walker: Walker, located: Located, cap: int, head: int | None, tail: int | None) -> str:
    if head is not None and tail is not None:
        raise RefusedPathError("Give head or tail, not both.")
    for name, value in (("head", head), ("tail", tail)):
        if value is not None and value < 0:
            raise RefusedPathError(f"{name} must be zero or more lines, not {value}.")
    data, whole = read_bytes(walker, located, cap, tail=tail is not None)
    if not whole and head is None and tail is None:
        raise TooLargeError(
            f"{located.path} is larger than the read cap of {cap} bytes; read part of it with head or tail, "
            "or raise [pack.filesystem] max_read_bytes."
        )
    text = decode_text(data if whole or tail is None else _skip_partial_character(data), located.path, cut=not whole)
    if head is not None:
        return "".join(text.splitlines(keepends=True)[:head])
    if tail is not None:
        lines = text.splitlines(keepends=True)
        if not whole and lines:
            lines = lines[1:]  # the first line was cut by the cap
        return "".join(lines[-tail:] if tail else [])
    return text


def _skip_partial_character(data: bytes) -> bytes:
    start = 0
    while start < min(3, len(data)) and data[start] & 0xC0 == 0x80:
        start += 1
    return data[start:]


def write_atomically(walker: Walker, located: Located, data: bytes, cap: int) -> None:
    """Replace or create the file: a temporary file in the same directory, fsynced, then renamed over it."""
    if len(data) > cap:
        raise TooLargeError(
            f"The content is {len(data)} bytes; the write cap is {cap} bytes ([pack.filesystem] max_write_bytes)."
        )
    refuse_git_internals(located)
    with walker.parent(located) as (parent, name):
        mode = 0o666 & ~UMASK
        try:
            existing = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        except OSError as exc:
            raise refuse_os_error(exc, located.path) from None
        if existing is not None:
            if not stat.S_ISREG(existing.st_mode):
                raise RefusedPathError(f"{located.path} is {kind(existing.st_mode)}; only regular files are replaced.")
            mode = stat.S_IMODE(existing.st_mode)
        temporary = f".mcpcloud-{secrets.token_hex(8)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC
        try:
            fd = os.open(temporary, flags, 0o600, dir_fd=parent)
        except OSError as exc:
            raise refuse_os_error(exc, located.path) from None
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, name, src_dir_fd=parent, dst_dir_fd=parent)
        except OSError as exc:
            _unlink_quietly(temporary, parent)
            raise refuse_os_error(exc, located.path) from None
        os.fsync(parent)


def make_directories(walker: Walker, located: Located) -> None:
    """`mkdir -p` one component at a time, each created and opened relative to its parent, never via a link."""
    refuse_git_internals(located)
    with walker.directory(type(located)(located.root, ())) as root_fd:
        fd = os.dup(root_fd)
        try:
            for index, part in enumerate(located.parts):
                shown = os.path.join(located.root, *located.parts[: index + 1])
                try:
                    os.mkdir(part, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                except OSError as exc:
                    raise refuse_os_error(exc, shown) from None
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise refuse_os_error(exc, shown) from None
                os.close(fd)
                fd = child
        finally:
            os.close(fd)


def move(walker: Walker, source: Located, destination: Located) -> None:
    """Rename within the roots; the destination must not exist (checked atomically where the OS allows)."""
    refuse_git_internals(source)
    refuse_git_internals(destination)
    with walker.parent(source) as (source_dir, source_name), walker.parent(destination) as (target_dir, target_name):
        try:
            os.stat(source_name, dir_fd=source_dir, follow_symlinks=False)
            _rename_no_replace(source_dir, source_name, target_dir, target_name)
        except FileExistsError:
            raise RefusedPathError(f"{destination.path} already exists; move_file never replaces anything.") from None
        except OSError as exc:
            raise refuse_os_error(exc, f"{source.path} -> {destination.path}") from None


RENAME_NOREPLACE = 1


def _renameat2() -> Callable[..., int] | None:
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


_RENAMEAT2 = _renameat2()


def _rename_no_replace(source_dir: int, source: str, target_dir: int, target: str) -> None:
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(source_dir, os.fsencode(source), target_dir, os.fsencode(target), RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL):
            raise OSError(code, os.strerror(code))
    # No renameat2 here: check, then rename (a narrow race, noted in docs/LOCAL.md).
    try:
        os.stat(target, dir_fd=target_dir, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(source, target, src_dir_fd=source_dir, dst_dir_fd=target_dir)
        return
    raise FileExistsError(errno.EEXIST, "exists")


def _unlink_quietly(name: str, dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


def _read_umask() -> int:
    current = os.umask(0o022)  # the only way to read it; done once at import, before any thread runs a tool
    os.umask(current)
    return current


UMASK = _read_umask()
