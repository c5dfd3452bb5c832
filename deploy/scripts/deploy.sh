#!/usr/bin/env bash
# Build, tag and push the image, apply a kustomize overlay pinned to the pushed digest, and
# wait for the rollout.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: deploy/scripts/deploy.sh --overlay dev|staging|prod --registry REGISTRY [options]

Steps: build the image (build-image.sh), tag it REGISTRY/mcpcloud:TAG, push it, render the
overlay with the image pinned to the pushed digest, kubectl apply, then wait for the
Deployment's rollout.

  --overlay NAME     dev, staging or prod (deploy/k8s/overlays/NAME)
  --registry REG     where to push, e.g. ghcr.io/acme (the image is REG/mcpcloud)
  --tag TAG          image tag (default: the version from src/mcpcloud/__init__.py)
  --engine NAME      podman or docker (default: podman when installed)
  --context CTX      kubectl context (default: the current one)
  --namespace NS     namespace of the Deployment (default: mcp-servers)
  --timeout DUR      how long to wait for the rollout (default: 5m)
  --skip-build       push and deploy an image that is already built and tagged
  --dry-run          build and push nothing, change nothing: print the steps and the
                     rendered manifests (image pinned to the tag instead of a digest)
  -h, --help         this text

Needs: kubectl (with kustomize), podman or docker, push access to REGISTRY, and the
mcpcloud-secrets Secret in the namespace for the prod overlay (deploy/k8s/secret.example.yaml).
USAGE
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

overlay=""
registry=""
tag="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "${ROOT}/src/mcpcloud/__init__.py")"
engine=""
context=()
namespace="mcp-servers"
timeout="5m"
skip_build=false
dry_run=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --overlay) overlay="${2:?--overlay needs a value}"; shift 2 ;;
    --registry) registry="${2:?--registry needs a value}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --engine) engine="${2:?--engine needs a value}"; shift 2 ;;
    --context) context=(--context "${2:?--context needs a value}"); shift 2 ;;
    --namespace) namespace="${2:?--namespace needs a value}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --skip-build) skip_build=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "deploy.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

overlay_dir="${ROOT}/deploy/k8s/overlays/${overlay}"
if [[ -z "${overlay}" || ! -f "${overlay_dir}/kustomization.yaml" ]]; then
  echo "deploy.sh: --overlay must be one of: dev, staging, prod (got '${overlay}')" >&2
  exit 2
fi
if [[ -z "${registry}" ]]; then
  echo "deploy.sh: --registry is required, e.g. --registry ghcr.io/acme" >&2
  exit 2
fi
if [[ -z "${engine}" ]]; then
  if command -v podman >/dev/null 2>&1; then engine=podman; else engine=docker; fi
fi
image="${registry%/}/mcpcloud:${tag}"

step() { printf '==> %s\n' "$*" >&2; }
run() {
  step "$*"
  if [[ "${dry_run}" == false ]]; then "$@"; fi
}

if [[ "${skip_build}" == false ]]; then
  run "${ROOT}/deploy/scripts/build-image.sh" --engine "${engine}" --tag "${image}"
fi

pinned="${image}"
if [[ "${dry_run}" == false ]]; then
  digest_file="$(mktemp)"
  trap 'rm -f "${digest_file}"' EXIT
  if [[ "${engine}" == podman ]]; then
    run podman push --digestfile "${digest_file}" "${image}"
    pinned="${registry%/}/mcpcloud@$(cat "${digest_file}")"
  else
    run docker push "${image}"
    pinned="$(docker image inspect --format '{{index .RepoDigests 0}}' "${image}")"
  fi
else
  step "${engine} push ${image}"
fi
step "image for the rollout: ${pinned}"

# A throwaway kustomization on top of a copy of the overlay sets the image without touching
# the repository (kustomize refuses absolute paths to resources).
work="$(mktemp -d)"
trap 'rm -rf "${work}" "${digest_file:-}"' EXIT
cp -R "${ROOT}/deploy/k8s" "${work}/k8s"
if [[ "${pinned}" == *@sha256:* ]]; then
  image_fields=("    newName: \"${pinned%%@*}\"" "    digest: \"${pinned#*@}\"")
else
  image_fields=("    newName: \"${pinned%:*}\"" "    newTag: \"${pinned##*:}\"")
fi
{
  printf '%s\n' "apiVersion: kustomize.config.k8s.io/v1beta1" "kind: Kustomization" \
    "resources:" "  - k8s/overlays/${overlay}" "images:" "  - name: ghcr.io/mcpcloud/mcpcloud" "${image_fields[@]}"
} >"${work}/kustomization.yaml"
kubectl kustomize "${work}" >"${work}/rendered.yaml"

if [[ "${dry_run}" == true ]]; then
  step "kubectl ${context[*]} apply -f - (the manifests below)"
  step "kubectl ${context[*]} -n ${namespace} rollout status deployment/mcpcloud --timeout ${timeout}"
  cat "${work}/rendered.yaml"
  exit 0
fi
run kubectl "${context[@]}" apply -f "${work}/rendered.yaml"
run kubectl "${context[@]}" -n "${namespace}" rollout status deployment/mcpcloud --timeout "${timeout}"
step "deployed ${pinned} with overlay ${overlay}; local access: deploy/scripts/port-forward.sh"
