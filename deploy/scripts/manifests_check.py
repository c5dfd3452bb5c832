"""Render every kustomize overlay and validate it offline, then policy-scan it.

Usage: python deploy/scripts/manifests_check.py [--kubernetes-version 1.37.0]
(run with the deploy tools' Python: `make manifests-check` does it).

For each overlay in deploy/k8s/overlays: `kubectl kustomize`, then
- built-in kinds: `kubernetes-validate --strict` against the given Kubernetes version;
- CRD kinds (ServiceMonitor, Argo CD Application): our JSON Schemas in deploy/k8s/schemas;
- every object: checkov (kubernetes framework, offline), skipping only the checks listed with
  a reason in deploy/k8s/policy-exceptions.yaml.
The Secret template and the Argo CD Application are validated the same way.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): K8S / "schemas" / "servicemonitor.schema.json",
    ("argoproj.io/v1alpha1", "Application"): K8S / "schemas" / "application.schema.json",
}
EXTRA_MANIFESTS = [K8S / "secret.example.yaml", ROOT / "deploy" / "argocd" / "application.yaml"]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        sys.exit(f"manifests-check: {name} not found (install deploy/requirements-deploy.txt)")
    return str(found)


def render(overlay: Path) -> str:
    result = subprocess.run([tool("kubectl"), "kustomize", str(overlay)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"manifests-check: kubectl kustomize {overlay.relative_to(ROOT)} failed:\n{result.stderr}")
    return result.stdout


def policy_exceptions() -> list[str]:
    entries = yaml.safe_load((K8S / "policy-exceptions.yaml").read_text())["exceptions"]
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            sys.exit(f"manifests-check: policy exception {entry.get('id')} has no reason")
    return [entry["id"] for entry in entries]


def split_documents(text: str) -> tuple[list[dict], list[dict]]:
    """(built-in objects, CRD objects)."""
    builtin, custom = [], []
    for document in yaml.safe_load_all(text):
        if not document:
            continue
        key = (document.get("apiVersion"), document.get("kind"))
        (custom if key in CRD_SCHEMAS else builtin).append(document)
    return builtin, custom


def validate(name: str, text: str, workdir: Path, kubernetes_version: str) -> list[str]:
    problems: list[str] = []
    builtin, custom = split_documents(text)
    if builtin:
        path = workdir / f"{name}.builtin.yaml"
        path.write_text(yaml.safe_dump_all(builtin, sort_keys=False))
        result = subprocess.run(
            [tool("kubernetes-validate"), "--strict", "--quiet", "-k", kubernetes_version, str(path)],
            capture_output=True,
            text=True,
        )
        output = (result.stdout + result.stderr).strip()
        if result.returncode != 0 or output:
            problems.append(f"kubernetes-validate {kubernetes_version} --strict:\n{output}")
    for document in custom:
        schema = json.loads(CRD_SCHEMAS[(document["apiVersion"], document["kind"])].read_text())
        for error in jsonschema.Draft202012Validator(schema).iter_errors(document):
            where = "/".join(str(part) for part in error.absolute_path) or "(top)"
            problems.append(f"{document['kind']}/{document['metadata'].get('name')}: {where}: {error.message}")
    print(
        f"  {name}: {len(builtin)} objects validated against Kubernetes {kubernetes_version}, "
        f"{len(custom)} custom resources against their schemas"
    )
    return problems


def policy_scan(files: list[Path], skips: list[str]) -> list[str]:
    command = [
        tool("checkov"),
        "--framework",
        "kubernetes",
        "--skip-download",
        "--compact",
        "--quiet",
        "--output",
        "json",
        "--skip-check",
        ",".join(skips),
    ]
    for path in files:
        command += ["--file", str(path)]
    result = subprocess.run(command, capture_output=True, text=True)
    try:
        reports = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return [f"checkov did not produce JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"]
    reports = reports if isinstance(reports, list) else [reports]
    problems, passed = [], 0
    for report in reports:
        summary = report.get("summary", {})
        passed += summary.get("passed", 0)
        for failed in report.get("results", {}).get("failed_checks", []):
            problems.append(
                f"checkov {failed['check_id']} {failed['check_name']}: {failed['resource']} "
                f"({Path(failed['file_path']).name})"
            )
    print(f"  checkov: {passed} passed, {len(problems)} failed; not run: {' '.join(skips)} (policy-exceptions.yaml)")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kubernetes-version", default="1.37.0")
    options = parser.parse_args()
    overlays = sorted(path for path in (K8S / "overlays").iterdir() if (path / "kustomization.yaml").exists())
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mcpcloud-manifests-") as temporary:
        workdir = Path(temporary)
        rendered: list[Path] = []
        for overlay in overlays:
            text = render(overlay)
            path = workdir / f"{overlay.name}.yaml"
            path.write_text(text)
            rendered.append(path)
            problems += [
                f"{overlay.name}: {p}" for p in validate(overlay.name, text, workdir, options.kubernetes_version)
            ]
        for manifest in EXTRA_MANIFESTS:
            problems += [
                f"{manifest.name}: {p}"
                for p in validate(manifest.stem, manifest.read_text(), workdir, options.kubernetes_version)
            ]
        problems += policy_scan(rendered, policy_exceptions())
    if problems:
        print("manifests-check FAILED:\n" + "\n".join(f"- {p}" for p in problems), file=sys.stderr)
        sys.exit(1)
    print(f"manifests-check passed: overlays {', '.join(o.name for o in overlays)}")


if __name__ == "__main__":
    main()
