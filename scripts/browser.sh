#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (tests/browser/), idempotently.
#
#   bash scripts/browser.sh        # prints the browser path; installs what is missing first
#
# Never a downloaded browser build (DEVELOPERS.md): playwright-core drives the distribution's
# package. Also installs one small CJK font (fonts-wqy-microhei, 1.6 MB) when the machine has
# none, so that the page's 资料不足 renders in screenshots instead of empty boxes. A machine
# that already has both touches neither the network nor dpkg.
set -euo pipefail

browser=/usr/bin/chromium
cjk_font_package=fonts-wqy-microhei

log() { echo "browser.sh: $*" >&2; }

missing=()
[[ -x "$browser" ]] || missing+=(chromium)
if command -v fc-list >/dev/null && [[ -z "$(fc-list :lang=zh family 2>/dev/null)" ]]; then
  missing+=("$cjk_font_package")
fi

if ((${#missing[@]} > 0)); then
  [[ $(id -u) -eq 0 ]] || { log "missing ${missing[*]}; install as root: apt-get install -y ${missing[*]}"; exit 1; }
  install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; }
  log "installing ${missing[*]} with apt-get"
  # Package lists may be absent (slim images) or stale (mirror moved on): refresh once, retry.
  if ! install; then
    log 'install failed; running apt-get update and retrying once'
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    install
  fi
fi

[[ -x "$browser" ]] || { log "apt-get finished but $browser is still missing"; exit 1; }
echo "$browser"
