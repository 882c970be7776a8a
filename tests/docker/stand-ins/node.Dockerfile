# Stand-in for node:20-bookworm-slim (no image registry here): Debian trixie's Node.js 20 and
# npm on the debootstrap base, with the `node` user (uid 1000) the official image has.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --create-home --shell /bin/sh node
CMD ["node"]
