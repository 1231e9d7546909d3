# Sourced by the project's scripts: puts the pinned Bun on PATH, installing it from npm when missing.
# Needs only Node/npm; installs into .tools/ (no root needed) unless the right Bun is already on PATH.

ensure_bun() {
  local root want have
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  want="$(sed -n 's/.*"bun": *"\([0-9.]*\)".*/\1/p' "$root/package.json" | head -n 1)"
  have="$(bun --version 2>/dev/null || true)"
  if [ "$have" = "$want" ]; then return 0; fi
  if [ ! -x "$root/.tools/node_modules/.bin/bun" ] || [ "$("$root/.tools/node_modules/.bin/bun" --version 2>/dev/null)" != "$want" ]; then
    echo "installing bun $want from the npm registry into .tools/ ..." >&2
    npm install --silent --no-audit --no-fund --no-save --prefix "$root/.tools" "bun@$want" >&2
  fi
  export PATH="$root/.tools/node_modules/.bin:$PATH"
  [ "$(bun --version)" = "$want" ] || { echo "could not install bun $want" >&2; return 1; }
}
