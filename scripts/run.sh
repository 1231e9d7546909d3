#!/usr/bin/env bash
# Quickstart: run minivercel from source on its embedded defaults (sqlite + local disk in ./data), with what
# local builds need (bubblewrap, slirp4netns, util-linux, iproute2, git) installed first when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bun.sh
. scripts/lib/sandbox.sh
ensure_bun
bun install --frozen-lockfile >&2
# Not fatal: the server starts anyway, and its start-up lines, /api/health and the dashboard say what is left.
sandbox_install run.sh || echo "run.sh: starting the server anyway; builds fail until that is done" >&2
exec bun src/main.ts serve "$@"
