#!/bin/sh
# What the official image's 20-envsubst-on-templates.sh does: every
# /etc/nginx/templates/NAME.template becomes /etc/nginx/conf.d/NAME, with only the variables
# whose names match NGINX_ENVSUBST_FILTER substituted.
set -eu
filter="${NGINX_ENVSUBST_FILTER:-}"
defined="$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/.*/${&}/' | tr '\n' ' ')"
for template in /etc/nginx/templates/*.template; do
  [ -f "$template" ] || continue
  output="/etc/nginx/conf.d/$(basename "$template" .template)"
  envsubst "$defined" <"$template" >"$output"
  echo "nginx stand-in: rendered $template into $output"
done
exec "$@"
