# syntax=docker/dockerfile:1
# Quire's image: `docker build -t quire .`, then `docker run -p 8080:8080 -v quire-data:/data quire`.
# The compose files in deploy/ run it beside ONLYOFFICE Docs or Collabora Online (see the README, "Run it with
# Docker"). Settings come from the environment (QUIRE_PUBLIC_URL, QUIRE_EDITOR_URL …, as `quire --help` lists them),
# so a compose file changes them without restating the command.

# Node 24 (LTS): CI runs every test on it, as on Node 20. Both stages use the same Debian, so the native addons built
# in the first run in the second.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 and argon2 are native addons: built from source when no prebuilt binary fits
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# dependencies first, so changing the sources does not reinstall them; their install scripts (the addons) run here,
# the package's own `prepare` (a build of sources not yet copied) does not
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts \
  && npm rebuild better-sqlite3 argon2
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY templates ./templates
RUN npm run build \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
  QUIRE_DATA=/data \
  QUIRE_HOST=0.0.0.0 \
  QUIRE_PORT=8080
WORKDIR /app
# what the npm package ships (package.json `files`), with the production dependencies; owned by root, read-only to
# the user Quire runs as
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/templates ./templates
# the data dir (catalog, blobs, secret.key): a volume, owned by the image's unprivileged `node` user (uid 1000)
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers 200 while the process serves; it lives under the public URL's path, when that has one. Node's
# own fetch: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const path = new URL(process.env.QUIRE_PUBLIC_URL || 'http://quire/').pathname.replace(/\\/+$/, ''); fetch(`http://127.0.0.1:${process.env.QUIRE_PORT || 8080}${path}/healthz`, { signal: AbortSignal.timeout(4000) }).then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1));"]
ENTRYPOINT ["node", "bin/quire.js"]
CMD ["serve"]
