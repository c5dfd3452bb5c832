#!/usr/bin/env bash
# Build the mcpcloud container image with podman (or docker).
set -euo pipefail

usage() {
  cat <<USAGE
Usage: deploy/scripts/build-image.sh [--tag IMAGE] [--engine podman|docker] [--base IMAGE] [--extras LIST]

Builds deploy/docker/Dockerfile from the repository root and labels the image with the
version (src/mcpcloud/__init__.py) and the git revision.

  --tag IMAGE     image name to tag (default: localhost/mcpcloud:dev)
  --engine NAME   podman (default when installed) or docker
  --base IMAGE    base image (env MCPCLOUD_BASE_IMAGE; default python:3.11-slim). With
                  podman and no --base: python:3.11-slim when it is already local, else
                  'standin': python3 from Debian bookworm via debootstrap, built once
                  and cached (for machines that cannot pull images)
  --extras LIST   pip extras to install (env MCPCLOUD_IMAGE_EXTRAS): empty for the slim image
                  (core packs only, the default), 'all' for the full one, or e.g. 'sql,postgres'
  -h, --help      this text

Behind a TLS-inspecting proxy, the CA bundle pip uses on this host (PIP_CERT, pip's
global.cert, REQUESTS_CA_BUNDLE or SSL_CERT_FILE) is mounted into the build for pip.
USAGE
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/scripts/podman-env.sh
source "${ROOT}/deploy/scripts/podman-env.sh"

tag="localhost/mcpcloud:dev"
engine=""
base="${MCPCLOUD_BASE_IMAGE:-}"
extras="${MCPCLOUD_IMAGE_EXTRAS:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --engine) engine="${2:?--engine needs a value}"; shift 2 ;;
    --base) base="${2:?--base needs a value}"; shift 2 ;;
    --extras) extras="${2?--extras needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "${engine}" ]]; then
  if command -v podman >/dev/null 2>&1; then engine=podman; else engine=docker; fi
fi
case "${engine}" in podman|docker) ;; *) echo "build-image.sh: --engine must be podman or docker" >&2; exit 2 ;; esac

host_ca_bundle() {
  local candidate
  for candidate in "${PIP_CERT:-}" "$(pip config get global.cert 2>/dev/null || true)" \
                   "${REQUESTS_CA_BUNDLE:-}" "${SSL_CERT_FILE:-}"; do
    if [[ -n "${candidate}" && -f "${candidate}" ]]; then
      printf '%s\n' "${candidate}"
      return 0
    fi
  done
  return 1
}

version="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "${ROOT}/src/mcpcloud/__init__.py")"
revision="$(git -C "${ROOT}" rev-parse HEAD 2>/dev/null || echo unknown)"
args=(build --file "${ROOT}/deploy/docker/Dockerfile" --tag "${tag}"
      --build-arg "VERSION=${version}" --build-arg "REVISION=${revision}" --build-arg "EXTRAS=${extras}")

if [[ "${engine}" == podman ]]; then
  # Without --base: python:3.11-slim if it is already here, otherwise the stand-in (these
  # machines cannot pull). An explicit --base is pulled when missing.
  if [[ -z "${base}" ]]; then
    # Fully qualified: podman matches a short name against any repository ending in it,
    # the stand-in included.
    if podman image exists docker.io/library/python:3.11-slim; then
      base=docker.io/library/python:3.11-slim
    else
      base=standin
    fi
  fi
  if [[ "${base}" == standin ]]; then
    base="${STANDIN_BASE_IMAGE}"
  fi
  ensure_base_image "${base}"
  # docker format keeps HEALTHCHECK (the OCI format has no field for it); never pull the base.
  args+=(--format docker --pull=never)
  if ca="$(host_ca_bundle)"; then
    args+=(--volume "${ca}:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
  fi
fi
if [[ -n "${base}" ]]; then
  args+=(--build-arg "PYTHON_IMAGE=${base}")
fi
if [[ -n "${PIP_INDEX_URL:-}" ]]; then
  args+=(--build-arg "PIP_INDEX_URL=${PIP_INDEX_URL}")
fi

log "${engine} build ${tag} (base ${base:-python:3.11-slim}, extras '${extras}', version ${version}, revision ${revision:0:12})"
"${engine}" "${args[@]}" "${ROOT}"
