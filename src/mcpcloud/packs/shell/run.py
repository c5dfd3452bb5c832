"""Running one planned command: no shell, its own process group, a reduced environment, a
timeout that kills the whole group, and output capped with a marker saying how much was cut."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field


class CommandResult(BaseModel):
    exit_code: int | None = Field(description="The program's exit status; null when it was killed by the timeout.")
    stdout: str
    stderr: str
    timed_out: bool
    truncated: bool = Field(description="True when stdout or stderr was longer than the cap and was cut.")


@dataclass
class Capture:
    cap: int
    kept: bytearray
    dropped: int = 0

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            room = max(0, self.cap - len(self.kept))
            self.kept += chunk[:room]
            self.dropped += len(chunk) - min(room, len(chunk))

    def text(self) -> str:
        text = self.kept.decode("utf-8", "replace")
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes not shown (max_output_bytes = {self.cap})]"
        return text


async def run_command(
    executable: str, args: tuple[str, ...], cwd_fd: int, env: dict[str, str], timeout: float, cap: int
) -> tuple[CommandResult, float]:
    """(result, seconds taken). `cwd_fd` is an open descriptor of the verified working directory."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        executable,
        *args,
        **_into_directory(cwd_fd),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, so the timeout can kill everything it started
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = Capture(cap, bytearray()), Capture(cap, bytearray())
    timed_out = False
    try:
        await asyncio.wait_for(
            asyncio.gather(out.drain(process.stdout), err.drain(process.stderr), process.wait()), timeout
        )
    except TimeoutError:
        timed_out = True
    finally:
        _kill_group(process.pid)  # also anything it left running in the background
        if process.returncode is None:
            await process.wait()
    result = CommandResult(
        exit_code=None if timed_out else process.returncode,
        stdout=out.text(),
        stderr=err.text() + (f"\n[killed: timed out after {timeout:g} seconds]" if timed_out else ""),
        timed_out=timed_out,
        truncated=bool(out.dropped or err.dropped),
    )
    return result, time.monotonic() - started


PROC_FDS = "/proc/self/fd"


def _into_directory(fd: int) -> dict[str, Any]:
    """Start the child in the directory this process opened without following links (not by its path),
    so a symlink swapped into the cwd path after the check cannot move it elsewhere."""
    if os.path.isdir(PROC_FDS):  # Linux: chdir through the descriptor, inherited across fork
        return {"cwd": f"{PROC_FDS}/{fd}", "pass_fds": (fd,)}
    return {"preexec_fn": lambda: os.fchdir(fd), "pass_fds": (fd,)}  # other POSIX systems


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pid, signal.SIGKILL)
