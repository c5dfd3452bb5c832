#!/usr/bin/env bash
# Reach the mcpcloud Service from this machine: kubectl port-forward on 127.0.0.1.
set -euo pipefail

usage() {
  cat <<USAGE
Usage: deploy/scripts/port-forward.sh [--port LOCAL_PORT] [--namespace NS] [--context CTX]

Forwards 127.0.0.1:LOCAL_PORT to port 80 of the mcpcloud Service, then prints the MCP URL
and how to point a client at it. Stops with Ctrl-C.

  --port PORT        local port (default: 8000)
  --namespace NS     namespace of the Service (default: mcp-servers)
  --context CTX      kubectl context (default: the current one)
  -h, --help         this text
USAGE
}

port=8000
namespace="mcp-servers"
context=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --namespace) namespace="${2:?--namespace needs a value}"; shift 2 ;;
    --context) context=(--context "${2:?--context needs a value}"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "port-forward.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "${port}" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
  echo "port-forward.sh: --port must be a number from 1 to 65535, got '${port}'" >&2
  exit 2
fi
command -v kubectl >/dev/null 2>&1 || { echo "port-forward.sh: kubectl is not installed" >&2; exit 1; }

cat >&2 <<INFO
mcpcloud will be at http://127.0.0.1:${port}/mcp (health: http://127.0.0.1:${port}/healthz)
  Claude Code:  claude mcp add --transport http mcpcloud http://127.0.0.1:${port}/mcp
  others:       mcpcloud client-config vscode --url http://127.0.0.1:${port}/mcp
INFO
exec kubectl "${context[@]}" -n "${namespace}" port-forward --address 127.0.0.1 service/mcpcloud "${port}:80"
