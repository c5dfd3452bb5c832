"""The deploy scripts: --help, clear refusals of bad arguments, and deploy.sh's dry run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ["deploy.sh", "port-forward.sh", "build-image.sh", "image-test.sh"]


def script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "deploy" / "scripts" / name), *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_explains_usage(name: str) -> None:
    result = script(name, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage: deploy/scripts/{name}")


@pytest.mark.parametrize("name", SCRIPTS)
def test_unknown_argument_is_named(name: str) -> None:
    result = script(name, "--frobnicate")
    assert result.returncode == 2
    assert f"{name}: unknown argument '--frobnicate' (see --help)" in result.stderr


@pytest.mark.parametrize("name", SCRIPTS + ["podman-env.sh"])
def test_strict_mode(name: str) -> None:
    text = (ROOT / "deploy" / "scripts" / name).read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    if name != "podman-env.sh":  # sourced: it inherits the caller's strict mode
        assert "\nset -euo pipefail\n" in text


@pytest.mark.parametrize(
    "args,message",
    [
        (["--overlay", "qa", "--registry", "r.example"], "--overlay must be one of: dev, staging, prod (got 'qa')"),
        (["--overlay", "dev"], "--registry is required"),
    ],
)
def test_deploy_refuses_bad_arguments(args: list[str], message: str) -> None:
    result = script("deploy.sh", *args, "--dry-run")
    assert result.returncode == 2
    assert message in result.stderr


def test_port_forward_refuses_a_bad_port() -> None:
    result = script("port-forward.sh", "--port", "70000")
    assert result.returncode == 2
    assert "--port must be a number from 1 to 65535, got '70000'" in result.stderr


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with its built-in kustomize) is not installed")
def test_deploy_dry_run_renders_the_overlay_with_the_pushed_image() -> None:
    result = script(
        "deploy.sh",
        "--overlay",
        "staging",
        "--registry",
        "registry.example:5000/team",
        "--tag",
        "1.2",
        "--engine",
        "docker",
        "--dry-run",
    )
    assert result.returncode == 0, result.stderr
    assert "==> docker push registry.example:5000/team/mcpcloud:1.2" in result.stderr
    assert "rollout status deployment/mcpcloud --timeout 5m" in result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example:5000/team/mcpcloud:1.2"
    assert (
        not (ROOT / "deploy" / "k8s" / "overlays" / "staging" / "kustomization.yaml")
        .read_text()
        .count("registry.example")
    )
