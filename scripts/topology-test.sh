#!/usr/bin/env bash
# `npm run test:topology`: the compose topology (docker-compose.prod.yml) as real processes
# on this machine — PostgreSQL + pgvector, llama-server, one process per function, nginx with
# infra/'s gateway config — and the seed's verification through the gateway.
# The driver is tests/topology/run-topology.ts; this script picks the ports, checks they are
# free, and is the outer trap: whatever the driver could not stop (it was killed) is stopped
# here, by PID.
#
# Environment: TOPOLOGY_BASE_PORT (18080; six consecutive ports are used),
# TOPOLOGY_KEEP_LOGS=1 keeps the run directory after a pass (it is always kept after a failure).
set -euo pipefail

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

base_port="${TOPOLOGY_BASE_PORT:-18080}"
[[ "$base_port" =~ ^[0-9]+$ ]] || { echo "topology-test: TOPOLOGY_BASE_PORT must be a number" >&2; exit 2; }
export TOPOLOGY_GATEWAY_PORT=$((base_port))
export TOPOLOGY_ADD_DOCUMENT_PORT=$((base_port + 1))
export TOPOLOGY_SEARCH_PORT=$((base_port + 2))
export TOPOLOGY_WS_CHAT_PORT=$((base_port + 3))
export TOPOLOGY_LLAMA_PORT=$((base_port + 4))
export TOPOLOGY_POSTGRES_PORT=$((base_port + 5))

home_dir="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache_root="${LOCAL_RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$home_dir/.cache}/local-rag}"
# A PostgreSQL cluster of this test's own, so it never stops or resets another suite's.
export TOPOLOGY_PG_CACHE_DIR="$cache_root/topology"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=()
for port in $(seq "$base_port" $((base_port + 5))); do
  port_in_use "$port" && taken+=("$port")
done
if ((${#taken[@]})); then
  echo "topology-test: port(s) ${taken[*]} on 127.0.0.1 are in use; set TOPOLOGY_BASE_PORT to a free range" >&2
  exit 2
fi

TOPOLOGY_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/local-rag-topology.XXXXXX")"
export TOPOLOGY_RUN_DIR

# Runs after the driver, pass or fail, and on Ctrl-C: anything still listed in the PID file
# (process groups the driver started) and the two servers the project scripts started.
# Each step is idempotent, so after a clean driver exit this finds nothing to do.
stop_leftovers() {
  local pid
  if [[ -s "$TOPOLOGY_RUN_DIR/pids" ]]; then
    while read -r pid; do
      [[ "$pid" =~ ^[0-9]+$ ]] || continue
      if kill -0 -- "-$pid" 2>/dev/null; then
        echo "topology-test: stopping leftover process group $pid" >&2
        kill -TERM -- "-$pid" 2>/dev/null || true
        sleep 2
        kill -KILL -- "-$pid" 2>/dev/null || true
      fi
    done <"$TOPOLOGY_RUN_DIR/pids"
  fi
  LLAMA_PORT="$TOPOLOGY_LLAMA_PORT" bash scripts/llama-server.sh stop >/dev/null 2>&1 || true
  LOCAL_RAG_CACHE_DIR="$TOPOLOGY_PG_CACHE_DIR" PG_TEST_PORT="$TOPOLOGY_POSTGRES_PORT" \
    bash scripts/pg-server.sh stop >/dev/null 2>&1 || true
}

status=0
trap 'stop_leftovers; exit 130' INT TERM HUP
node_modules/.bin/tsx tests/topology/run-topology.ts || status=$?
trap - INT TERM HUP
stop_leftovers

if [[ $status -eq 0 && "${TOPOLOGY_KEEP_LOGS:-0}" != 1 ]]; then
  rm -rf "$TOPOLOGY_RUN_DIR"
else
  echo "logs: $TOPOLOGY_RUN_DIR" >&2
fi
exit "$status"
