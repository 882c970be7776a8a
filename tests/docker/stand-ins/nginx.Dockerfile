# Stand-in for nginx:1.28-alpine: Debian trixie's nginx with the official image's start-up
# behaviour that the gateway relies on (templates/*.template rendered with envsubst, limited
# to NGINX_ENVSUBST_FILTER, into conf.d/), logs on stdout/stderr, SIGQUIT to stop, and wget
# for the healthcheck (busybox has it in the official image).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx gettext-base wget \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && mkdir -p /etc/nginx/templates \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
COPY nginx-entrypoint.sh /usr/local/bin/nginx-entrypoint.sh
STOPSIGNAL SIGQUIT
EXPOSE 80
ENTRYPOINT ["/usr/local/bin/nginx-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
