#!/usr/bin/env bash
# Runs the gateway's nginx config outside Docker, the way the official nginx image does in
# the compose files: the same template, rendered with envsubst limited to GATEWAY_* names.
#
#   bash infra/scripts/nginx.sh install        Debian's nginx-light + envsubst (idempotent)
#   bash infra/scripts/nginx.sh render DIR     write DIR/nginx.conf + DIR/conf.d/gateway.conf
#   bash infra/scripts/nginx.sh test DIR       render, then `nginx -t` on the result
#
# render reads GATEWAY_LISTEN, GATEWAY_RESOLVER and the GATEWAY_*_UPSTREAM addresses from the
# environment (defaults below suit processes on 127.0.0.1); compose sets the same names to
# service names. DIR becomes nginx's prefix: pid, logs and temp files stay inside it.
set -euo pipefail

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
template="$project_root/infra/nginx/gateway.conf.template"

install_nginx() {
  if command -v nginx >/dev/null 2>&1 && command -v envsubst >/dev/null 2>&1; then
    echo "nginx: already installed ($(nginx -v 2>&1))"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Other setup scripts (the PostgreSQL one) may be using apt at the same time: wait for them.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # nginx-light has every module the gateway uses (proxy, map, upstream errors) and no more.
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends nginx-light gettext-base >/dev/null
  # The package starts a system nginx on port 80; the gateway runs its own instances.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  if [ -f /run/nginx.pid ]; then kill "$(cat /run/nginx.pid)" 2>/dev/null || true; fi
  echo "nginx: installed ($(nginx -v 2>&1))"
}

render() {
  local prefix="$1"
  mkdir -p "$prefix/conf.d" "$prefix/logs" "$prefix/temp"
  export GATEWAY_LISTEN="${GATEWAY_LISTEN:-127.0.0.1:8088}"
  export GATEWAY_RESOLVER="${GATEWAY_RESOLVER:-127.0.0.1}"
  export GATEWAY_ADD_DOCUMENT_UPSTREAM="${GATEWAY_ADD_DOCUMENT_UPSTREAM:-127.0.0.1:8091}"
  export GATEWAY_SEARCH_UPSTREAM="${GATEWAY_SEARCH_UPSTREAM:-127.0.0.1:8092}"
  export GATEWAY_WS_CHAT_UPSTREAM="${GATEWAY_WS_CHAT_UPSTREAM:-127.0.0.1:8093}"
  export GATEWAY_DEFAULT_UPSTREAM="${GATEWAY_DEFAULT_UPSTREAM:-$GATEWAY_WS_CHAT_UPSTREAM}"
  # Same list the image's 20-envsubst-on-templates.sh builds with NGINX_ENVSUBST_FILTER=^GATEWAY_:
  # nginx's own $variables are left alone.
  local defined names
  mapfile -t names < <(compgen -e | grep '^GATEWAY_')
  # shellcheck disable=SC2016 # envsubst wants the literal text ${NAME} for each variable.
  defined="$(printf '${%s} ' "${names[@]}")"
  envsubst "$defined" <"$template" >"$prefix/conf.d/gateway.conf"
  # The image's /etc/nginx/nginx.conf includes conf.d/*.conf inside http {}; this is its
  # local equivalent with every writable path under the prefix.
  cat >"$prefix/nginx.conf" <<CONF
worker_processes 1;
pid nginx.pid;
error_log logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log logs/access.log;
  client_body_temp_path temp/client_body;
  proxy_temp_path temp/proxy;
  include conf.d/*.conf;
}
CONF
  echo "$prefix/nginx.conf"
}

case "${1:-}" in
  install) install_nginx ;;
  render) render "$(realpath -m "${2:?usage: nginx.sh render DIR}")" ;;
  test)
    prefix="$(realpath -m "${2:?usage: nginx.sh test DIR}")"
    render "$prefix" >/dev/null
    nginx -t -q -p "$prefix/" -c "$prefix/nginx.conf"
    echo "nginx: configuration in $prefix is valid"
    ;;
  *) echo "usage: $0 install | render DIR | test DIR" >&2; exit 2 ;;
esac
