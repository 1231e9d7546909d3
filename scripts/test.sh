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
# The bus's scale-out backend: Apache Kafka 4.x (KRaft, one node) from its Maven Central jars.
MINIVERCEL_TEST_KAFKA_BROKERS="$(bash scripts/services.sh kafka | tail -n 1)"
export MINIVERCEL_TEST_KAFKA_BROKERS
# The log store's scale-out backend: Debian's clickhouse-server (18.16), a private instance.
MINIVERCEL_TEST_CLICKHOUSE_URL="$(bash scripts/services.sh clickhouse | tail -n 1)"
export MINIVERCEL_TEST_CLICKHOUSE_URL
# S3 (and ECS) APIs for the artifacts and runner tests: one moto server.
MINIVERCEL_TEST_S3_ENDPOINT="$(bash scripts/services.sh moto | tail -n 1)"
export MINIVERCEL_TEST_S3_ENDPOINT
# Pebble (Let's Encrypt's ACME test server) for the automatic-HTTPS tests, built with the Go toolchain.
MINIVERCEL_TEST_PEBBLE_BIN="$(bash scripts/services.sh pebble | tail -n 1)"
export MINIVERCEL_TEST_PEBBLE_BIN
# Schemathesis and openapi-spec-validator (a venv's bin folder) for the API's contract tests.
MINIVERCEL_TEST_SCHEMATHESIS="$(bash scripts/services.sh schemathesis | tail -n 1)"
export MINIVERCEL_TEST_SCHEMATHESIS
# The browser the dashboard's end-to-end test drives (installs it; prints nothing).
bash scripts/services.sh chromium
bun run typecheck
bun run lint
bun run layout
exec bun test --timeout 60000 "$@"
