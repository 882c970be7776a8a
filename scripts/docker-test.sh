#!/usr/bin/env bash
# `npm run test:docker` (the `docker` lane of `npm test`): the seed's deployment under a real
# Docker engine. Installs the engine and plugins (scripts/docker-engine.sh), starts dockerd
# unless one runs, builds the stand-in images (cached), then runs tests/docker/run-docker.ts,
# and stops the dockerd it started. Needs root and ../shared/fixtures/models.
#
# Environment: DOCKER_TEST_FLOWS ("dev prod swarm"), DOCKER_TEST_KEEP_LOGS=1 keeps the run
# directory after a pass (it is always kept after a failure), CA_BUNDLE (the machine's CA
# bundle by default: package registries are reached through a TLS-inspecting proxy).
set -euo pipefail

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

log() { printf '[docker-test] %s\n' "$*" >&2; }
fixtures=../shared/fixtures/models
for fixture in "$fixtures/stories260K.gguf" "$fixtures/glove-static-384d/onnx/model.onnx"; do
  [ -f "$fixture" ] || { log "missing fixture $fixture"; exit 1; }
done
if [ -z "${CA_BUNDLE:-}" ]; then
  for candidate in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    [ -f "$candidate" ] && { CA_BUNDLE="$candidate"; break; }
  done
fi
if [ -z "${CA_BUNDLE:-}" ] || [ ! -f "$CA_BUNDLE" ]; then log 'no CA bundle found; set CA_BUNDLE'; exit 1; fi
export CA_BUNDLE

lane_started=$SECONDS
bash scripts/docker-engine.sh install
engine_state="$(bash scripts/docker-engine.sh start)"
stop_engine() {
  # Only the engine this lane started; one that was running before stays as it was.
  if [ "$engine_state" = started ]; then
    docker swarm leave --force >/dev/null 2>&1 || true
    bash scripts/docker-engine.sh stop || true
  fi
}
trap 'stop_engine; exit 130' INT TERM HUP

DOCKER_TEST_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/local-rag-docker.XXXXXX")"
export DOCKER_TEST_RUN_DIR
status=0
if images="$(bash tests/docker/stand-ins.sh)"; then
  log "stand-in images (built ${SECONDS}s into the lane):"
  while IFS=$'\t' read -r assignment replaces; do
    log "  ${assignment%%=*} = ${assignment#*=} replaces $replaces"
    export "${assignment?}"
  done <<<"$images"
  node_modules/.bin/tsx tests/docker/run-docker.ts || status=$?
else
  status=1
fi
trap - INT TERM HUP
stop_engine
log "docker lane: $((SECONDS - lane_started)) s in total; dockerd ${engine_state/started/stopped again}"

if [[ $status -eq 0 && "${DOCKER_TEST_KEEP_LOGS:-0}" != 1 ]]; then
  rm -rf "$DOCKER_TEST_RUN_DIR"
else
  echo "logs: $DOCKER_TEST_RUN_DIR" >&2
fi
exit "$status"
