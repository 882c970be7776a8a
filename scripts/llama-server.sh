#!/usr/bin/env bash
# Builds, starts and stops a real llama.cpp `llama-server` for tests and local runs.
#
#   bash scripts/llama-server.sh build   # prints the binary path (cached outside the clone)
#   bash scripts/llama-server.sh start   # prints http://127.0.0.1:<port> once /health is 200
#   bash scripts/llama-server.sh stop    # stops the server started for that port
#   bash scripts/llama-server.sh model   # prints the model path (downloads it once if absent)
#
# The llama.cpp source comes from the git bundle that node-llama-cpp ships, so no network is
# needed to build. The binary is keyed by the bundle's commit, so a new node-llama-cpp
# release rebuilds and an unchanged one returns at once.
#
# Environment: LOCAL_RAG_CACHE_DIR, LLAMA_PORT (8181), LLAMA_MODEL, LLAMA_CTX_SIZE (8192),
# LLAMA_PARALLEL (2), LLM_API_KEY (test-key), LLAMA_THREADS, LLAMA_START_TIMEOUT (60 s).
set -euo pipefail

project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle="$project_root/node_modules/node-llama-cpp/llama/gitRelease.bundle"
home_dir=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
cache_root=${LOCAL_RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$home_dir/.cache}/local-rag}
port=${LLAMA_PORT:-8181}
pid_file="$cache_root/llama-server-$port.pid"
log_file="$cache_root/llama-server-$port.log"

log() { echo "llama-server.sh: $*" >&2; }
die() { log "$*"; exit 1; }

bundle_commit() {
  [[ -f "$bundle" ]] || die "missing $bundle (run npm ci: node-llama-cpp ships the llama.cpp source)"
  # The bundle's header names its HEAD; reading it does not unpack the 35 MB pack.
  local commit
  commit=$(git bundle list-heads "$bundle" | awk '$2 == "HEAD" { print $1; exit }')
  [[ -n "$commit" ]] || commit=$(git bundle list-heads "$bundle" | awk 'NR == 1 { print $1 }')
  [[ -n "$commit" ]] || die "cannot read a commit from $bundle"
  echo "$commit"
}

ensure_toolchain() {
  local missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  command -v git >/dev/null || missing+=(git)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]}; install them (apt-get install ${missing[*]})"
  # shellcheck source=lib/apt.sh
  source "$project_root/scripts/lib/apt.sh"
  apt_ensure_packages "${missing[@]}"
}

binary_path() { echo "$cache_root/llama-server-$(bundle_commit)/llama-server"; }

build() {
  command -v git >/dev/null || ensure_toolchain
  local commit binary target_dir
  commit=$(bundle_commit)
  target_dir="$cache_root/llama-server-$commit"
  binary="$target_dir/llama-server"
  if [[ -x "$binary" ]]; then
    echo "$binary"
    return 0
  fi
  ensure_toolchain
  mkdir -p "$cache_root"
  # Two test runs may ask for a build at once; the second waits and then finds the binary.
  exec {lock_fd}>"$cache_root/llama-server-build.lock"
  flock "$lock_fd"
  if [[ -x "$binary" ]]; then
    echo "$binary"
    return 0
  fi
  local work_dir
  work_dir=$(mktemp -d "$cache_root/llama-server-build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: work_dir is local
  trap "rm -rf '$work_dir'" EXIT
  log "building llama-server $commit in $work_dir (several minutes on 2 cores)"
  git clone --quiet --no-checkout "$bundle" "$work_dir/src" >&2
  git -C "$work_dir/src" -c advice.detachedHead=false checkout --quiet "$commit" >&2
  local options=(
    -DCMAKE_BUILD_TYPE=Release
    -DLLAMA_BUILD_UI=OFF
    -DLLAMA_USE_PREBUILT_UI=OFF # ON would download the web UI at configure time
    -DLLAMA_OPENSSL=OFF
    -DLLAMA_BUILD_TESTS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF
    -DBUILD_SHARED_LIBS=OFF # one self-contained file that can be copied into the cache
  )
  # Older llama.cpp releases link libcurl unless told not to; newer ones dropped the option.
  if grep -q 'option(LLAMA_CURL' "$work_dir/src/CMakeLists.txt"; then
    options+=(-DLLAMA_CURL=OFF)
  fi
  # GCC 12 prints thousands of harmless warnings from its AVX-512 headers: keep them in a file.
  local build_log="$cache_root/llama-server-build.log"
  log "compiler output: $build_log"
  if ! { cmake -S "$work_dir/src" -B "$work_dir/build" "${options[@]}" &&
    cmake --build "$work_dir/build" --target llama-server -j"$(nproc)"; } >"$build_log" 2>&1; then
    grep -E 'error|Error' "$build_log" | tail -n 20 >&2 || true
    die "build failed (log: $build_log)"
  fi
  mkdir -p "$target_dir"
  # Copy then rename, so a reader never sees a half-written binary.
  cp "$work_dir/build/bin/llama-server" "$target_dir/llama-server.partial"
  mv "$target_dir/llama-server.partial" "$binary"
  echo "$binary"
}

http_status() { # url [api key] -> HTTP status, 000 when nothing answers
  curl --silent --output /dev/null --write-out '%{http_code}' --max-time 2 \
    ${2:+--header "Authorization: Bearer $2"} "$1" || true
}

running_pid() { # prints the pid from the pid file when it is a live llama-server
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid=$(cat "$pid_file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a reused pid: only a llama-server process counts.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'llama-server' || return 1
  echo "$pid"
}

model_path() {
  if [[ -n "${LLAMA_MODEL:-}" ]]; then
    [[ -f "$LLAMA_MODEL" ]] || die "LLAMA_MODEL=$LLAMA_MODEL does not exist"
    echo "$LLAMA_MODEL"
    return 0
  fi
  local fixture="$project_root/../shared/fixtures/models/stories260K.gguf"
  if [[ -f "$fixture" ]]; then
    (cd "$(dirname "$fixture")" && echo "$(pwd)/$(basename "$fixture")")
    return 0
  fi
  local cached="$cache_root/models/stories260K.gguf"
  if [[ ! -f "$cached" ]]; then
    local url="https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf"
    log "no fixture model; downloading $url"
    mkdir -p "$(dirname "$cached")"
    if ! curl --fail --silent --show-error --location --max-time 120 --output "$cached.partial" "$url"; then
      rm -f "$cached.partial"
      die "cannot download $url; set LLAMA_MODEL to a local .gguf file"
    fi
    mv "$cached.partial" "$cached"
  fi
  echo "$cached"
}

start() {
  local origin="http://127.0.0.1:$port" pid
  if pid=$(running_pid); then
    wait_healthy "$pid" "$origin"
    echo "$origin"
    return 0
  fi
  local binary model
  command -v curl >/dev/null || ensure_toolchain
  binary=$(build)
  model=$(model_path)
  [[ $(http_status "$origin/health") == 000 ]] || die "port $port is taken by another process"
  mkdir -p "$cache_root"
  # The fixture model is so small that thread hand-offs cost more than they save; one
  # thread per slot leaves the other core to the tests on a 2-core machine.
  local threads=${LLAMA_THREADS:-1}
  nohup "$binary" \
    --host 127.0.0.1 --port "$port" \
    --model "$model" \
    --ctx-size "${LLAMA_CTX_SIZE:-8192}" \
    --parallel "${LLAMA_PARALLEL:-2}" \
    --api-key "${LLM_API_KEY:-test-key}" \
    --chat-template chatml \
    --alias "$(basename "$model" .gguf)" \
    --threads "$threads" --threads-batch "$threads" \
    --no-webui --metrics --slots \
    >"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  wait_healthy "$pid" "$origin"
  echo "$origin"
}

wait_healthy() { # pid origin
  local deadline=$((SECONDS + ${LLAMA_START_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$1" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 20 "$log_file" >&2 || true
      die "llama-server exited during start-up (log: $log_file)"
    fi
    [[ $(http_status "$2/health") == 200 ]] && return 0
    sleep 0.2
  done
  tail -n 20 "$log_file" >&2 || true
  die "llama-server on port $port not healthy after ${LLAMA_START_TIMEOUT:-60} s (log: $log_file)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    return 0
  fi
  kill "$pid"
  # llama-server's SIGTERM handler hangs while a response is still streaming, so wait
  # briefly and then kill: a test server holds nothing worth a graceful shutdown.
  for _ in $(seq 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    log "llama-server $pid ignored SIGTERM; killed it"
  fi
  rm -f "$pid_file"
  log "stopped llama-server $pid on port $port"
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  model) model_path ;;
  path) binary_path ;;
  *) die "usage: $0 build|start|stop|model|path" ;;
esac
