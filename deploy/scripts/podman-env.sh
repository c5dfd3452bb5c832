#!/usr/bin/env bash
# Sourced by the podman scripts: makes podman usable on a Debian host and provides the base image.
#
#   ensure_podman          install podman (and debootstrap) with apt when missing; returns 3 when
#                          neither podman nor a way to install it is available
#   ensure_base_image IMG  make sure IMG exists: use it if present, otherwise build a stand-in
#                          python:3.11-slim from Debian bookworm with debootstrap + podman import
#
# The podman settings come from deploy/podman/containers.conf through CONTAINERS_CONF.

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-${DEPLOY_DIR}/podman/containers.conf}"
STANDIN_BASE_IMAGE="localhost/mcpcloud-standin/python:3.11-slim"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

apt_install() {
  local sudo=()
  if [[ ${EUID} -ne 0 ]]; then
    sudo -n true 2>/dev/null || return 1
    sudo=(sudo -n)
  fi
  # Other jobs on the machine may hold the dpkg lock; wait for it instead of failing.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq || return 1
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "$@" >/dev/null || return 1
}

ensure_podman() {
  if command -v podman >/dev/null 2>&1; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || return 3
  log "podman is missing: installing it with apt-get"
  apt_install podman runc containernetworking-plugins debootstrap ca-certificates || return 3
  command -v podman >/dev/null 2>&1 || return 3
}

ensure_base_image() {
  local image="$1"
  if podman image exists "${image}"; then
    return 0
  fi
  if [[ "${image}" != "${STANDIN_BASE_IMAGE}" ]]; then
    log "pulling ${image}"
    podman pull "${image}"
    return
  fi
  build_standin_base "${image}"
}

# Base images cannot be pulled on these machines; Debian's own python3 (3.11 on bookworm) in a
# minimal root filesystem stands in for python:3.11-slim. Built once, then cached by podman.
build_standin_base() {
  local image="$1" rootfs mirror="${MCPCLOUD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
  if ! command -v debootstrap >/dev/null 2>&1; then
    apt_install debootstrap || { log "debootstrap is missing and cannot be installed"; return 1; }
  fi
  rootfs="$(mktemp -d "${TMPDIR:-/var/tmp}/mcpcloud-rootfs.XXXXXX")"
  log "building the stand-in base ${image} with debootstrap (about two minutes, once)"
  if ! debootstrap --variant=minbase --include=python3,python3-venv,python3-pip \
      bookworm "${rootfs}" "${mirror}" >"${rootfs}.log" 2>&1; then
    tail -20 "${rootfs}.log" >&2
    rm -rf "${rootfs}" "${rootfs}.log"
    return 1
  fi
  rm -rf "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/lib/apt/lists/*
  tar -C "${rootfs}" -c . | podman import --change 'CMD ["python3"]' - "${image}" >/dev/null
  rm -rf "${rootfs}" "${rootfs}.log"
  log "stand-in base ${image} is ready"
}
