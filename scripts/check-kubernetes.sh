#!/usr/bin/env bash
# Validates docs/kubernetes/*.yaml against the published Kubernetes JSON schemas (strict: an
# unknown field fails) with PyPI's kubernetes-validate, installed once into a virtual
# environment in the cache folder. Custom resources (the PostgreSQL operator's Cluster) have
# no schema there and are skipped by name.
set -euo pipefail

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home_dir="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
cache_root="${LOCAL_RAG_CACHE_DIR:-${XDG_CACHE_HOME:-$home_dir/.cache}/local-rag}"
validator_version=1.37.0
kubernetes_version=1.37.0
venv="$cache_root/kubernetes-validate-$validator_version"

# The marker is written last, so an interrupted install is redone rather than half-used.
if [ ! -f "$venv/installed" ]; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    # shellcheck source=lib/apt.sh
    source "$project_root/scripts/lib/apt.sh"
    apt_ensure_packages python3-venv
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$validator_version"
  touch "$venv/installed"
fi

manifests=()
for file in "$project_root"/docs/kubernetes/*.yaml; do
  grep -q '^apiVersion: postgresql.cnpg.io/' "$file" && { echo "skipped (custom resource): docs/kubernetes/$(basename "$file")"; continue; }
  manifests+=("$file")
done
"$venv/bin/kubernetes-validate" --strict --quiet --kubernetes-version "$kubernetes_version" "${manifests[@]}"
echo "kubernetes manifests: ${#manifests[@]} file(s) valid against Kubernetes $kubernetes_version (strict)"
