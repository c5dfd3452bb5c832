#!/usr/bin/env bash
# Build the image and run it the way production does, then check it from the outside.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: deploy/scripts/image-test.sh [--keep]

Lints deploy/docker/Dockerfile with hadolint, builds the image with podman, checks its
metadata (UID 1001, OCI labels, HEALTHCHECK, no pip/apt), runs it with --read-only,
--user 1001, --cap-drop ALL and only /tmp writable, published on 127.0.0.1 on a free port,
then checks /healthz, /readyz, the HEALTHCHECK, a real tools/call of 'echo' through the
MCP SDK client, and that SIGTERM ends it with status 0 within the drain grace period.

Without podman (and no way to install it) it is skipped with a message, except when
CI=true: CI never skips it.

  --keep       leave the container running (for debugging) instead of removing it
  -h, --help   this text

Environment: PYTHON (a Python with the mcp SDK; default .venv/bin/python),
             MCPCLOUD_BASE_IMAGE (see build-image.sh --help), HADOLINT (default hadolint).
USAGE
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/scripts/podman-env.sh
source "${ROOT}/deploy/scripts/podman-env.sh"

keep=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) keep=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "image-test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-${ROOT}/.venv/bin/python}"
IMAGE="localhost/mcpcloud:image-test"
GRACE_SECONDS=5
started=${SECONDS}

log "hadolint deploy/docker/Dockerfile"
"${HADOLINT:-hadolint}" "${ROOT}/deploy/docker/Dockerfile"

set +e
ensure_podman
podman_status=$?
set -e
if [[ ${podman_status} -ne 0 ]]; then
  if [[ "${CI:-}" == true ]]; then
    log "FAIL: podman is not available and could not be installed; CI never skips the image test"
    exit 1
  fi
  log "SKIP: podman is not available and could not be installed here (the image test runs in CI)"
  exit 0
fi

"${ROOT}/deploy/scripts/build-image.sh" --engine podman --tag "${IMAGE}"
build_done=${SECONDS}

log "checking image metadata"
fail() { log "FAIL: $*"; exit 1; }
inspect() { podman image inspect --format "$1" "${IMAGE}"; }
[[ "$(inspect '{{.Config.User}}')" == "1001:1001" ]] || fail "image user is not 1001:1001"
for label in source version revision; do
  value="$(inspect "{{index .Config.Labels \"org.opencontainers.image.${label}\"}}")"
  [[ -n "${value}" && "${value}" != "<no value>" ]] || fail "OCI label org.opencontainers.image.${label} is missing"
done
[[ "$(inspect '{{.Config.StopSignal}}')" =~ ^(SIGTERM|15)$ ]] || fail "stop signal is not SIGTERM"
inspect '{{json .Config.Healthcheck}}' | grep -q healthz || fail "HEALTHCHECK is missing"
if podman run --rm --entrypoint /opt/mcpcloud/bin/python "${IMAGE}" -c "import pip" 2>/dev/null; then
  fail "pip is importable in the runtime image"
fi
size_bytes="$(inspect '{{.Size}}')"
log "image ${IMAGE}: $((size_bytes / 1000000)) MB"

port="$("${PYTHON}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
name="mcpcloud-image-test-$$"
cleanup() {
  if [[ "${keep}" == false ]]; then
    podman rm --force --ignore "${name}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# Bound to 0.0.0.0 inside the container, the server refuses to start without authentication:
# run it as production would, with an API key store mounted read-only like a Kubernetes Secret.
keys_dir="$(mktemp -d)"
trap 'cleanup; rm -rf "${keys_dir}"' EXIT
MCPCLOUD_AUTH__API_KEYS__FILE="${keys_dir}/keys.json" "${MCPCLOUD_BIN:-$(dirname "${PYTHON}")/mcpcloud}" \
  keys create --name image-test --scopes 'core:read' 2>/dev/null | tail -n 1 >"${keys_dir}/api-key"
grep -q '^mcpk_' "${keys_dir}/api-key" || fail "could not create the test API key"
chmod a+r "${keys_dir}/keys.json"

log "running ${name} on 127.0.0.1:${port} (read-only root, UID 1001, no capabilities, API keys)"
# podman without systemd cannot schedule the HEALTHCHECK timer and says so on stderr; the
# check itself is run below with `podman healthcheck run`.
podman run --detach --name "${name}" \
  --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,nosuid,nodev,noexec,size=64m \
  --user 1001:1001 --cap-drop ALL --security-opt no-new-privileges \
  --publish "127.0.0.1:${port}:8000" \
  --env MCPCLOUD_HTTP__SHUTDOWN_GRACE_SECONDS="${GRACE_SECONDS}" \
  --env MCPCLOUD_AUTH__MODES=api_keys \
  --env MCPCLOUD_AUTH__API_KEYS__FILE=/run/mcpcloud/keys.json \
  --volume "${keys_dir}/keys.json:/run/mcpcloud/keys.json:ro,Z" \
  "${IMAGE}" >/dev/null 2>"${TMPDIR:-/tmp}/${name}.run.log" \
  || { cat "${TMPDIR:-/tmp}/${name}.run.log" >&2; fail "podman run failed"; }
rm -f "${TMPDIR:-/tmp}/${name}.run.log"

if ! "${PYTHON}" "${ROOT}/deploy/scripts/image_probe.py" "http://127.0.0.1:${port}" --wait 60 --api-key-file "${keys_dir}/api-key"; then
  podman logs "${name}" >&2 || true
  fail "the running container did not answer as expected"
fi
podman healthcheck run "${name}" 2>/dev/null || fail "the image's HEALTHCHECK failed"
log "HEALTHCHECK passed"

log "SIGTERM: expecting a drained exit with status 0 within ${GRACE_SECONDS}s (+10s margin)"
podman kill --signal TERM "${name}" >/dev/null
if ! status="$(timeout $((GRACE_SECONDS + 10)) podman wait "${name}")"; then
  podman logs "${name}" >&2 || true
  fail "the container did not exit within the grace period"
fi
if [[ "${status}" != 0 ]]; then
  podman logs "${name}" >&2 || true
  fail "the container exited with status ${status} after SIGTERM"
fi
if podman logs "${name}" 2>&1 | grep -q Traceback; then
  podman logs "${name}" >&2
  fail "the container logged a traceback"
fi
log "exited 0 after SIGTERM"
log "image test passed: build $((build_done - started))s, whole test $((SECONDS - started))s, image $((size_bytes / 1000000)) MB"
