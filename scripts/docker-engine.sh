#!/usr/bin/env bash
# A real Docker engine for the docker lane: Debian's docker.io (dockerd, containerd, runc,
# tini as docker-init), plus Compose v2 and buildx as CLI plugins taken from Debian trixie's
# docker-compose / docker-buildx packages (bookworm has neither). Needs root.
#
#   bash scripts/docker-engine.sh install   apt packages + CLI plugins (idempotent)
#   bash scripts/docker-engine.sh start     start dockerd unless one answers; prints "started" or "running"
#   bash scripts/docker-engine.sh stop      stop the dockerd this script started (by PID)
#   bash scripts/docker-engine.sh status    exit 0 when an engine answers
#
# dockerd keeps its images in ${LOCAL_RAG_CACHE_DIR:-~/.cache/local-rag}/docker, so built
# images survive as a cache between runs while the engine itself is stopped.
# stdout carries only the one-word answers; everything else goes to stderr.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/apt.sh
source "$script_dir/lib/apt.sh"

home_dir="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache_root="${LOCAL_RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$home_dir/.cache}/local-rag}"
engine_dir="$cache_root/docker-engine"
data_root="$cache_root/docker"
pid_file="$engine_dir/dockerd.pid"
log_file="$engine_dir/dockerd.log"
socket=/var/run/docker.sock
# Where the docker CLI looks for system-wide plugins (besides /usr/libexec/docker/cli-plugins,
# which belongs to dpkg).
plugin_dir=/usr/local/lib/docker/cli-plugins
plugin_suite=trixie
bridge_address=172.31.253.1/24
address_pool=172.31.0.0/17
address_pool_size=24
start_timeout_seconds=60
stop_timeout_seconds=30

log() { printf '[docker-engine] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# install_plugin NAME PACKAGE: docker NAME as a CLI plugin from trixie's PACKAGE .deb.
install_plugin() {
  local name="$1" package="$2"
  if docker "$name" version >/dev/null 2>&1; then
    log "docker $name: $(docker "$name" version 2>/dev/null | head -n 1)"
    return 0
  fi
  local work_dir
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/docker-plugin.XXXXXX")"
  # apt downloads as the unprivileged _apt user: it must be able to reach the folder.
  chmod 755 "$work_dir"
  apt_fetch_binary "$plugin_suite" "$package" "$work_dir/debs" || { rm -rf "$work_dir"; die "could not fetch $package from $plugin_suite"; }
  local deb
  deb="$(find "$work_dir/debs" -name "${package}_*.deb" | head -n 1)"
  [ -n "$deb" ] || { rm -rf "$work_dir"; die "apt-get download $package left no .deb"; }
  dpkg-deb -x "$deb" "$work_dir/root"
  local binary
  binary="$(find "$work_dir/root" -type f -path "*/cli-plugins/docker-$name" | head -n 1)"
  [ -n "$binary" ] || { rm -rf "$work_dir"; die "$(basename "$deb") has no cli-plugins/docker-$name"; }
  mkdir -p "$plugin_dir"
  install -m 0755 "$binary" "$plugin_dir/docker-$name.partial"
  mv "$plugin_dir/docker-$name.partial" "$plugin_dir/docker-$name"
  rm -rf "$work_dir"
  docker "$name" version >/dev/null 2>&1 || die "docker $name does not run after installing $(basename "$deb")"
  log "docker $name installed from $(basename "$deb"): $(docker "$name" version | head -n 1)"
}

command_install() {
  mkdir -p "$engine_dir"
  exec 9>"$engine_dir/install.lock"
  flock 9
  # tini is docker-init (compose's `init: true`); debootstrap builds the base images.
  apt_ensure_packages docker.io tini debootstrap iptables 9>&-
  # docker.io's postinst may have started a system dockerd (sysvinit script): it would hold
  # /var/run/docker.sock with another data root. Stop only that one, by its PID file.
  if [ -f /var/run/docker.pid ] && [ ! -f "$pid_file" ]; then
    local system_pid
    system_pid="$(cat /var/run/docker.pid)"
    if [[ "$system_pid" =~ ^[0-9]+$ ]] && kill -0 "$system_pid" 2>/dev/null; then
      log "stopping the dockerd that docker.io's install started (pid $system_pid)"
      kill -TERM "$system_pid"
      local _
      for _ in $(seq 1 "$stop_timeout_seconds"); do
        kill -0 "$system_pid" 2>/dev/null || break
        sleep 1
      done
    fi
  fi
  install_plugin compose docker-compose
  install_plugin buildx docker-buildx
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid
  pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q dockerd || return 1
  printf '%s\n' "$pid"
}

command_start() {
  if engine_answers; then
    printf 'running\n'
    return 0
  fi
  command -v dockerd >/dev/null || die "dockerd is not installed; run: bash scripts/docker-engine.sh install"
  mkdir -p "$engine_dir" "$data_root"
  rm -f "$pid_file"
  log "starting dockerd (data root $data_root, log $log_file)"
  # setsid: its own session, so a Ctrl-C in the test's terminal does not reach it. The pid
  # file is dockerd's own (--pidfile), written once it runs.
  # Explicit subnets for the default bridge (image builds run there) and for every network
  # created without one, away from the ranges a host network usually has.
  setsid dockerd --data-root "$data_root" --pidfile "$pid_file" --host "unix://$socket" \
    --storage-driver overlay2 --log-level warn --bip "$bridge_address" \
    --default-address-pool "base=$address_pool,size=$address_pool_size" </dev/null >>"$log_file" 2>&1 &
  local attempt
  for attempt in $(seq 1 "$start_timeout_seconds"); do
    engine_answers && break
    [ "$attempt" -eq "$start_timeout_seconds" ] && { tail -n 30 "$log_file" >&2; die "dockerd did not answer within $start_timeout_seconds s"; }
    sleep 1
  done
  log "dockerd $(docker version --format '{{.Server.Version}}') answers (pid $(running_pid || echo '?'))"
  printf 'started\n'
}

command_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log 'no dockerd started by this script is running'
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  local _
  for _ in $(seq 1 "$stop_timeout_seconds"); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; return 0; }
    sleep 1
  done
  die "dockerd (pid $pid) did not stop within $stop_timeout_seconds s"
}

case "${1:-}" in
  install) command_install ;;
  start) command_start ;;
  stop) command_stop ;;
  status) engine_answers ;;
  *)
    printf 'usage: bash scripts/docker-engine.sh install|start|stop|status\n' >&2
    exit 2
    ;;
esac
