"""A real round-robin proxy (Debian's HAProxy) in front of mcpcloud replicas: no affinity, one request each.

`http-reuse never` + `option http-server-close` make every request pick the next server, so two
requests of one session alternate between replicas, as a Kubernetes Service does per connection
and an Ingress does per request. HAProxy is installed by `ensure_haproxy` (apt) when missing.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.conftest import free_port


def ensure_haproxy() -> str:
    found = shutil.which("haproxy") or (Path("/usr/sbin/haproxy").exists() and "/usr/sbin/haproxy")
    if found:
        return str(found)
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    try:
        subprocess.run([*apt, "install", "-y", "-qq", "haproxy"], check=True, capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired):
        subprocess.run([*apt, "update", "-qq"], check=False, capture_output=True, timeout=600)
        subprocess.run([*apt, "install", "-y", "-qq", "haproxy"], check=False, capture_output=True, timeout=600)
    found = shutil.which("haproxy") or (Path("/usr/sbin/haproxy").exists() and "/usr/sbin/haproxy")
    if not found:
        pytest.fail("haproxy is not installed and `apt-get install haproxy` failed (needs root)")
    return str(found)


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_proxy(tmp_path: Path, backend_ports: list[int]) -> Proxy:
    port = free_port()
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p}" for i, p in enumerate(backend_ports))
    config = tmp_path / f"haproxy-{port}.cfg"
    config.write_text(f"""
global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    option http-server-close
    http-reuse never
frontend mcp
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
    retry-on conn-failure empty-response
    retries 2
    option redispatch
{servers}
""")
    process = subprocess.Popen(
        [ensure_haproxy(), "-f", str(config), "-db"],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / f"haproxy-{port}.log").open("wb"),
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return Proxy(process, port)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("haproxy did not start")
