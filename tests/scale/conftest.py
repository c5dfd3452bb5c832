"""Two real `mcpcloud serve` replicas on one Redis, behind a real round-robin proxy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from tests.conftest import RunningServer, spawn_server, wait_ready
from tests.scale.proxy import Proxy, start_proxy

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def unique_prefix(label: str) -> str:
    return f"test:{label}:{os.getpid()}:{os.urandom(3).hex()}:"


@dataclass
class Cluster:
    replicas: list[RunningServer]
    proxy: Proxy
    prefix: str

    @property
    def url(self) -> str:
        return self.proxy.url


def start_cluster(tmp_path: Path, env: dict[str, str], *args: str, count: int = 2) -> Cluster:
    replicas = [spawn_server(tmp_path, *args, env=env) for _ in range(count)]
    for replica in replicas:
        wait_ready(replica)
    return Cluster(replicas, start_proxy(tmp_path, [r.port for r in replicas]), env["MCPCLOUD_REDIS__KEY_PREFIX"])


def stop_cluster(cluster: Cluster) -> None:
    cluster.proxy.stop()
    for replica in cluster.replicas:
        replica.stop()
    forget_prefix(cluster.prefix)


def forget_prefix(prefix: str) -> None:
    """Delete what a test left under its own prefix in the shared Redis (never anything else)."""
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Replicas with the conformance fixtures, sharing state through the machine's Redis (own key prefix)."""
    env = {"MCPCLOUD_REDIS__URL": SHARED_REDIS, "MCPCLOUD_REDIS__KEY_PREFIX": unique_prefix("cluster")}
    running = start_cluster(tmp_path_factory.mktemp("cluster"), env, "--packs", "core,conformance,tests.packs.announce")
    yield running
    stop_cluster(running)
