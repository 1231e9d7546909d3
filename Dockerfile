# syntax=docker/dockerfile:1
# The platform image: the single `minivercel` executable (API + dashboard, worker, proxy; pick with --role)
# plus what its local build runner needs. compose.yaml runs it in the scaled setup.
#
#   docker build -t minivercel .
#   docker run -p 9000:9000 -p 8001:8001 -v minivercel:/data minivercel      (all roles, embedded backends)
#
# The worker role builds in a bubblewrap sandbox, which needs root in the container and a few privileges
# from the engine (see the worker service in compose.yaml). The builder image for ECS is builder/Dockerfile.

# ---- build: the single executable, exactly as `bun run build` makes it ---------------------------------
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY tsconfig.json ./
COPY src ./src
COPY views ./views
COPY builder ./builder
COPY schema ./schema
COPY scripts/build.ts ./scripts/build.ts
RUN bun run build

# ---- runtime --------------------------------------------------------------------------------------------
# Debian slim with Node 20 (npm, corepack): builds run with the image's own /usr, read-only, inside the sandbox.
FROM node:20-bookworm-slim
# git: the clone step. bubblewrap, slirp4netns, iproute2, util-linux (setpriv, unshare, prlimit): the sandbox.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates git bubblewrap slirp4netns iproute2 util-linux \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/minivercel /usr/local/bin/minivercel
# Owned by the image's unprivileged `node` user, so the api and proxy roles can run as it (compose does).
RUN install -d -o node -g node -m 0700 /data
ENV MINIVERCEL_DATA=/data
VOLUME /data
# API and dashboard; sites (Host-header proxy).
# 443 (and PROXY_PORT=80) with automatic HTTPS; metrics with METRICS_PORT, METRICS_HOST=0.0.0.0 and METRICS_TOKEN.
EXPOSE 9000 8001 443
ENTRYPOINT ["minivercel"]
CMD ["serve"]
