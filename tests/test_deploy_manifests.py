"""The rendered Kubernetes overlays keep the promises docs/DEPLOY.md makes, and the server accepts
their configuration. Schema validation and the policy scan are `make manifests-check`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from tests.conftest import MCPCLOUD, server_env, start_server

from mcpcloud.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl (with its built-in kustomize) is not installed")

EXPECTED_REPLICAS = {"dev": (1, 1, 1), "staging": (2, 2, 10), "prod": (3, 3, 10)}  # replicas, HPA min, max


def render(overlay: str) -> list[dict[str, Any]]:
    output = subprocess.run([KUBECTL, "kustomize", str(OVERLAYS / overlay)], check=True, capture_output=True, text=True)
    return [doc for doc in yaml.safe_load_all(output.stdout) if doc]


def one(objects: list[dict[str, Any]], kind: str, name: str = "mcpcloud") -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def config_map(objects: list[dict[str, Any]]) -> dict[str, str]:
    (found,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("mcpcloud-config")]
    return found["data"]


@pytest.fixture(scope="module", params=sorted(EXPECTED_REPLICAS))
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(request.param)


def test_every_overlay_directory_is_covered() -> None:
    assert sorted(p.name for p in OVERLAYS.iterdir() if p.is_dir()) == sorted(EXPECTED_REPLICAS)


def test_everything_lives_in_the_mcp_servers_namespace(overlay) -> None:
    _, objects = overlay
    assert one(objects, "Namespace", "mcp-servers")
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "mcp-servers", obj["metadata"]["name"]


def test_pods_are_restricted_non_root_read_only(overlay) -> None:
    _, objects = overlay
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert one(objects, "ServiceAccount")["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1001,
        "runAsGroup": 1001,
        "fsGroup": 1001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["runAsUser"] == 1001 and context["runAsNonRoot"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts["/var/run/secrets/mcpcloud"]]["secret"]["secretName"] == "mcpcloud-secrets"
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}


def test_probes_and_shutdown_timing_fit_the_drain(overlay) -> None:
    _, objects = overlay
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = float(config_map(objects)["MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > pre_stop + drain


def test_replicas_autoscaling_and_disruption_budget(overlay) -> None:
    name, objects = overlay
    replicas, low, high = EXPECTED_REPLICAS[name]
    assert one(objects, "Deployment")["spec"]["replicas"] == replicas
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (low, high)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    pdb = one(objects, "PodDisruptionBudget")["spec"]
    assert pdb.get("minAvailable", 0) < replicas or pdb.get("maxUnavailable") == 1


def test_service_ingress_and_monitoring(overlay) -> None:
    _, objects = overlay
    assert one(objects, "Service")["spec"]["type"] == "ClusterIP"
    ingress = one(objects, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert "cert-manager.io/cluster-issuer" in annotations
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    host = ingress["spec"]["rules"][0]["host"]
    assert ingress["spec"]["tls"][0]["hosts"] == [host]
    paths = {p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert "/mcp" in paths and "/metrics" not in paths and "/healthz" not in paths
    settings = config_map(objects)
    assert settings["MCPCLOUD_HTTP__PUBLIC_URL"] == f"https://{host}/mcp"
    assert yaml.safe_load(settings["MCPCLOUD_HTTP__ALLOWED_HOSTS"]) == [host, "127.0.0.1:*", "localhost:*"]
    assert one(objects, "ServiceMonitor")["spec"]["endpoints"][0]["path"] == "/metrics"


def test_network_policy_denies_by_default_and_opens_what_is_needed(overlay) -> None:
    _, objects = overlay
    deny = one(objects, "NetworkPolicy", "default-deny-all")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    allow = one(objects, "NetworkPolicy")["spec"]
    egress_ports = {p["port"] for rule in allow["egress"] for p in rule["ports"]}
    assert egress_ports == {53, 443, 6379, 5432}
    assert [p["port"] for p in allow["ingress"][0]["ports"]] == ["http"]


def test_prod_state_is_redis_backed_and_its_secret_is_required() -> None:
    objects = render("prod")
    settings = config_map(objects)
    assert settings["MCPCLOUD_LIMITS__BACKEND"] == "redis"
    assert settings["MCPCLOUD_CACHE__BACKEND"] == "redis"
    assert settings["MCPCLOUD_REDIS__URL_FILE"].startswith("/var/run/secrets/mcpcloud/")
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (secrets,) = [v for v in pod["volumes"] if v["name"] == "secrets"]
    assert secrets["secret"]["optional"] is False
    (container,) = pod["containers"]
    assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"]
    assert "DoNotSchedule" in {c["whenUnsatisfiable"] for c in pod["topologySpreadConstraints"]}


def test_overlays_that_can_run_two_replicas_share_state_through_redis(overlay) -> None:
    """More than one replica without redis.url breaks legacy sessions and request state (docs/DEPLOY.md)."""
    name, objects = overlay
    most = one(objects, "HorizontalPodAutoscaler")["spec"]["maxReplicas"]
    settings = config_map(objects)
    if most > 1:
        assert settings.get("MCPCLOUD_REDIS__URL_FILE", "").startswith("/var/run/secrets/mcpcloud/"), name
    assert "MCPCLOUD_CACHE__REDIS_URL_FILE" not in settings  # deprecated: redis.url is the one connection


def pod_environment(objects: list[dict[str, Any]], tmp_path: Path) -> dict[str, str]:
    """The ConfigMap's MCPCLOUD_* variables; `*_FILE` paths (the Secret mount) become stand-in files."""
    env = {}
    for key, value in config_map(objects).items():
        if key == "MCPCLOUD_AUTH__API_KEYS__FILE":
            env[key] = str(tmp_path / "api-keys.json")  # a real store, written by create_api_key()
            continue
        if key.endswith("_FILE"):
            stand_in = tmp_path / Path(value).name
            stand_in.write_text("redis://127.0.0.1:6379/0")
            value = str(stand_in)
        env[key] = value
    return env


def test_the_server_accepts_each_overlays_configuration(overlay, tmp_path: Path, monkeypatch) -> None:
    """Every MCPCLOUD_* variable the ConfigMap sets loads through the real settings tree."""
    _, objects = overlay
    for key in [k for k in os.environ if k.startswith("MCPCLOUD_")]:
        monkeypatch.delenv(key)
    for key, value in pod_environment(objects, tmp_path).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.host == "0.0.0.0" and settings.port == 8000 and settings.transport == "http"
    assert settings.http.shutdown_grace_seconds == 25


def test_the_secret_template_holds_no_real_secret() -> None:
    template = yaml.safe_load((ROOT / "deploy" / "k8s" / "secret.example.yaml").read_text())
    assert all("CHANGE-ME" in value for value in template["stringData"].values())


async def test_a_server_with_the_staging_config_answers_port_forward_and_ingress_hosts(tmp_path: Path) -> None:
    """Run mcpcloud with exactly the staging ConfigMap's environment (bound to 0.0.0.0 as in the pod,
    probed only on loopback): port-forward (Host 127.0.0.1:PORT) and the Ingress host reach /mcp,
    any other Host is refused."""
    objects = render("staging")
    env = pod_environment(objects, tmp_path)
    key = create_api_key(env)
    server = start_server(tmp_path, env=env)
    try:
        async with key_client(server.url, key) as client:
            result = await client.call_tool("echo", {"message": "via port-forward"})
        assert result.content[0].text == "via port-forward"
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "ingress-check", "version": "1"},
            },
        }
        headers = {
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            "Authorization": f"Bearer {key}",
        }
        async with httpx.AsyncClient() as http:
            ingress = await http.post(
                server.url, json=initialize, headers={**headers, "Host": "mcp.staging.example.com"}
            )
            foreign = await http.post(server.url, json=initialize, headers={**headers, "Host": "evil.example"})
        assert ingress.status_code == 200, ingress.text
        assert '"serverInfo"' in ingress.text
        assert foreign.status_code == 421
        assert "Host 'evil.example' is not allowed" in foreign.text
    finally:
        assert server.stop() == 0


def create_api_key(env: dict[str, str]) -> str:
    """A key in the overlay's API key store, made the way an operator makes one."""
    done = subprocess.run(
        [MCPCLOUD, "keys", "create", "--name", "deploy-test", "--scopes", "core:read"],
        capture_output=True,
        text=True,
        env=server_env(**env),
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def key_client(url: str, key: str) -> Client:
    transport = streamable_http_client(
        url, http_client=create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    )
    return Client(transport)
