#!/usr/bin/env bash
# Quickstart: run minivercel from source on its embedded defaults (sqlite + local disk in ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/bun.sh
ensure_bun
bun install --frozen-lockfile >&2
exec bun src/main.ts serve "$@"
