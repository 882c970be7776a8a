# Stand-in for node:20-bookworm-slim (no image registry here): Debian trixie's Node.js 20 on
# the debootstrap base with npm from the npm registry (as the official image bundles it;
# Debian's npm package drags in a compiler toolchain), and the `node` user (uid 1000).
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS npm
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --create-home --shell /bin/sh node
# The npm release Node 20.19 ships with. The CA bundle (a BuildKit secret, never in a layer)
# lets npm through a TLS-inspecting proxy.
ARG NPM_VERSION=10.8.2
RUN --mount=type=secret,id=ca_bundle \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi \
 && npm install --global --prefix /opt/npm --no-audit --no-fund "npm@$NPM_VERSION"

FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --create-home --shell /bin/sh node
COPY --from=npm /opt/npm/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && npm --version
CMD ["node"]
