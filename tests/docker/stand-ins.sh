#!/usr/bin/env bash
# Builds the local stand-ins for the public images the compose files name (no image registry
# is reachable here) and prints, one per line, the variable that points the compose files at
# each:  NAME=IMAGE<TAB>what it replaces
#
#   bash tests/docker/stand-ins.sh [OUTPUT_FILE]
#
# The base is `debootstrap --variant=minbase trixie` imported with `docker import`; every
# stand-in is tagged with a hash of its Dockerfile, its files and the base image, so an
# unchanged one is found at once and never rebuilt. The llama.cpp stand-in compiles
# llama-server from node-llama-cpp's source bundle (several minutes on 2 cores, once).
# Needs a running engine (scripts/docker-engine.sh start). Logs go to stderr.
# CA_BUNDLE: a CA bundle file handed to the builds as a BuildKit secret (npm behind a proxy).
set -euo pipefail

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
stand_ins="$project_root/tests/docker/stand-ins"
# shellcheck source=../../scripts/lib/apt.sh
source "$project_root/scripts/lib/apt.sh"
output_file="${1:-/dev/stdout}"
repository=local-rag-stand-in
base_image="$repository/debian:trixie"
suite=trixie

log() { printf '[stand-ins] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# What Debian's own slim container images do: no documentation, manual pages or translations
# (now or from later installs), no apt caches or package lists left in any layer.
slim_root() {
  local root="$1"
  rm -rf "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/locale/"* "$root/usr/share/info/"* \
    "$root/var/cache/apt/archives/"*.deb "$root/var/cache/apt/"*.bin "$root/var/lib/apt/lists/"*
  cat >"$root/etc/dpkg/dpkg.cfg.d/container-excludes" <<'EXCLUDES'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/info/*
EXCLUDES
  cat >"$root/etc/apt/apt.conf.d/container-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Install-Recommends "false";
CLEAN
}

build_base() {
  if image_exists "$base_image"; then
    log "$base_image: cached ($(docker image inspect --format '{{.Created}}' "$base_image"))"
    return 0
  fi
  command -v debootstrap >/dev/null || die 'debootstrap is missing; run: bash scripts/docker-engine.sh install'
  local mirror uri work_dir
  mirror="$(apt_debian_mirror)" || die 'no Debian mirror in the apt sources'
  uri="${mirror%%$'\t'*}"
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/stand-in-base.XXXXXX")"
  log "debootstrap --variant=minbase $suite from $uri (about a minute)"
  if ! nice -n 10 debootstrap --variant=minbase "$suite" "$work_dir/root" "$uri" >"$work_dir/debootstrap.log" 2>&1; then
    tail -n 20 "$work_dir/debootstrap.log" >&2
    rm -rf "$work_dir"
    die 'debootstrap failed'
  fi
  slim_root "$work_dir/root"
  tar -C "$work_dir/root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$base_image" >/dev/null
  rm -rf "$work_dir"
  log "$base_image: imported ($(docker image inspect --format '{{.Size}}' "$base_image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

# build_stand_in NAME CONTEXT_DIR [BUILD_ARG...]: prints the tag.
build_stand_in() {
  local name="$1" context="$2"; shift 2
  local dockerfile="$stand_ins/$name.Dockerfile"
  local hash
  hash="$({
    cat "$dockerfile"
    # The files the Dockerfile copies from this folder, and the base it builds on.
    for file in "$stand_ins/$name"-*; do [ -f "$file" ] && cat "$file"; done
    docker image inspect --format '{{.Id}}' "$base_image"
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-12)"
  local tag="$repository/$name:$hash"
  if image_exists "$tag"; then
    log "$tag: cached"
  else
    log "$tag: building"
    local build_log
    build_log="$(mktemp "${TMPDIR:-/tmp}/stand-in-$name.XXXXXX")"
    local build_args=(--build-arg "BASE_IMAGE=$base_image")
    # For the stand-ins that fetch from a package registry through the TLS-inspecting proxy.
    [ -n "${CA_BUNDLE:-}" ] && build_args+=(--secret "id=ca_bundle,src=$CA_BUNDLE")
    local argument
    for argument in "$@"; do build_args+=(--build-arg "$argument"); done
    local started=$SECONDS
    if ! docker build --progress=plain -f "$dockerfile" -t "$tag" "${build_args[@]}" "$context" >"$build_log" 2>&1; then
      tail -n 40 "$build_log" >&2
      die "building the $name stand-in failed (log: $build_log)"
    fi
    rm -f "$build_log"
    log "$tag: built in $((SECONDS - started)) s"
  fi
  printf '%s\n' "$tag"
}

llama_commit() {
  local bundle="$1" commit
  commit="$(git bundle list-heads "$bundle" | awk '$2 == "HEAD" { print $1; exit }')"
  [ -n "$commit" ] || commit="$(git bundle list-heads "$bundle" | awk 'NR == 1 { print $1 }')"
  [ -n "$commit" ] || die "cannot read a commit from $bundle"
  printf '%s\n' "$commit"
}

docker version >/dev/null 2>&1 || die 'no Docker engine answers; run: bash scripts/docker-engine.sh start'
build_base
llama_bundle_dir="$project_root/node_modules/node-llama-cpp/llama"
[ -f "$llama_bundle_dir/gitRelease.bundle" ] || die "missing $llama_bundle_dir/gitRelease.bundle (run npm ci)"

node_image="$(build_stand_in node "$stand_ins")"
llama_image="$(build_stand_in llama-server "$llama_bundle_dir" "LLAMA_COMMIT=$(llama_commit "$llama_bundle_dir/gitRelease.bundle")")"
python_image="$(build_stand_in python "$stand_ins")"
postgres_image="$(build_stand_in postgres "$stand_ins")"
nginx_image="$(build_stand_in nginx "$stand_ins")"

{
  printf 'NODE_IMAGE=%s\t%s\n' "$node_image" 'node:20-bookworm-slim (infra/Dockerfile FROM)'
  printf 'PYTHON_IMAGE=%s\t%s\n' "$python_image" 'python:3.11-slim (llm_init)'
  printf 'POSTGRES_IMAGE=%s\t%s\n' "$postgres_image" 'pgvector/pgvector:pg16 (postgres)'
  printf 'NGINX_IMAGE=%s\t%s\n' "$nginx_image" 'nginx:1.28-alpine (gateway)'
  printf 'LLAMA_SERVER_IMAGE=%s\t%s\n' "$llama_image" 'ghcr.io/ggml-org/llama.cpp:server (llama_server)'
} >"$output_file"
