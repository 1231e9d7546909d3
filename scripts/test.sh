#!/usr/bin/env bash
# The whole test suite: installs Bun and dependencies, starts the test services, then type-check + lint + tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bun.sh
ensure_bun
bun install --frozen-lockfile >&2
# The build sandbox's programs (bubblewrap, slirp4netns, git): installed when missing.
bash scripts/services.sh sandbox
# Real servers for the scale-out ports, started idempotently on 127.0.0.1.
MINIVERCEL_TEST_DATABASE_URL="$(bash scripts/services.sh postgres | tail -n 1)"
export MINIVERCEL_TEST_DATABASE_URL
# The browser the dashboard's end-to-end test drives (installs it; prints nothing).
bash scripts/services.sh chromium
bun run typecheck
bun run lint
exec bun test --timeout 60000 "$@"
