#!/usr/bin/env bash
# Starts the real servers the scale-out tests use, on 127.0.0.1 and idempotently: scripts/services.sh <service|all>.
# stdout carries only each started service's connection URL (one line per service); diagnostics go to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.services"
# Every service `all` starts; add kafka, clickhouse, moto here as they get a start_<name> function.
KNOWN=(postgres chromium sandbox)

log() { printf 'services: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  printf 'usage: %s <%s|all>\n' "$0" "$(IFS='|' && echo "${KNOWN[*]}")" >&2
  exit 2
}

# Installs Debian packages, refreshing the package lists only when the first attempt fails.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  log "installing $*"
  apt-get install -y --no-install-recommends "$@" >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends "$@" >&2; } ||
    die "could not install $* with apt-get"
}

deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Serializes concurrent starts (parallel test files, CI steps). fd 9 must not leak into daemons.
lock() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  exec 9>"$STATE/.lock"
  flock 9
}

# ---- PostgreSQL: Debian's package, a private cluster owned by the `postgres` user ----------------

pg_bindir() {
  local dir
  dir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/pg_isready ]] && echo "$dir"
}

# Postgres refuses to run as root; the cd keeps it from warning about root's working directory.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# Running = our postmaster is alive and accepting connections (a killed one can linger as a zombie).
pg_running() {
  [[ -f $1/postmaster.pid ]] && as_postgres "$2/pg_ctl" status -D "$1" >/dev/null 2>&1 &&
    "$2/pg_isready" -q -h 127.0.0.1 -p "$(sed -n 4p "$1/postmaster.pid")"
}

start_postgres() {
  local port="${PG_PORT:-54329}" data="$STATE/postgres" bin
  [[ $port =~ ^[0-9]+$ ]] || die "PG_PORT must be a port number, got '$port'"
  local url="postgres://minivercel@127.0.0.1:$port/postgres"

  # Fast path: already running (checked again under the lock below).
  if ! bin="$(pg_bindir)" || ! pg_running "$data" "$bin"; then
    lock
    if ! bin="$(pg_bindir)"; then
      # The package would otherwise create and start its own cluster on 5432, which we do not use.
      mkdir -p /etc/postgresql-common/createcluster.d
      echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/minivercel.conf
      apt_install postgresql
      bin="$(pg_bindir)" || die "postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
    fi
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user (it comes with Debian's postgresql-common)"
    as_postgres test -x "$STATE" || die "the postgres user cannot reach $STATE; make its parent directories world-searchable"

    if [[ ! -f $data/PG_VERSION ]]; then
      # initdb into a scratch dir and rename, so an interrupted init never leaves a half cluster behind.
      log "initializing a PostgreSQL cluster in $data"
      rm -rf "$data.init"
      install -d -o postgres -g postgres -m 700 "$data.init"
      as_postgres "$bin/initdb" -D "$data.init" -U minivercel --auth=trust -E UTF8 --no-locale --no-sync --no-instructions >&2
      # Trust, but only over TCP from 127.0.0.1: no unix socket, no other interface.
      echo "host all all 127.0.0.1/32 trust" >"$data.init/pg_hba.conf"
      cat >>"$data.init/postgresql.conf" <<'EOF'

# minivercel test cluster: loopback only, and durability traded for speed (throwaway data).
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
      chown postgres:postgres "$data.init/pg_hba.conf"
      mv "$data.init" "$data"
    fi

    if ! pg_running "$data" "$bin"; then
      log "starting PostgreSQL on 127.0.0.1:$port"
      as_postgres "$bin/pg_ctl" start -D "$data" -l "$data/server.log" -w -t 60 -o "-p $port" >&2 9>&- ||
        { tail -n 20 "$data/server.log" >&2 || true; die "PostgreSQL did not start (log: $data/server.log)"; }
    fi
  fi

  # A cluster left running on another port would make the URL lie.
  local running
  running="$(sed -n 4p "$data/postmaster.pid")"
  [[ $running == "$port" ]] ||
    die "PostgreSQL in $data already runs on port $running; stop it ($bin/pg_ctl stop -D $data) or set PG_PORT=$running"
  echo "$url"
}

# ---- Chromium: Debian's package, driven by playwright-core in the dashboard's end-to-end tests --------

# Not a server: the tests launch /usr/bin/chromium themselves, so this only installs it (stdout stays empty).
start_chromium() {
  # Without a font the screenshots would render text as boxes.
  local packages=(chromium fonts-dejavu-core) missing=() package
  for package in "${packages[@]}"; do deb_installed "$package" || missing+=("$package"); done
  [[ ${#missing[@]} -eq 0 ]] && return
  lock
  missing=()
  for package in "${packages[@]}"; do deb_installed "$package" || missing+=("$package"); done
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
  [[ -x /usr/bin/chromium ]] || die "chromium installed but /usr/bin/chromium is missing"
}

# ---- Sandbox: the programs src/build/sandbox.ts runs builds with ---------------------------------

# Not a server either: bubblewrap (namespaces), slirp4netns (a build's network), util-linux (setpriv, unshare,
# prlimit), git (the clone step). Installs only what is missing; stdout stays empty.
start_sandbox() {
  local packages=(bubblewrap slirp4netns util-linux git) missing=() package
  for package in "${packages[@]}"; do deb_installed "$package" || missing+=("$package"); done
  [[ ${#missing[@]} -eq 0 ]] && return
  lock
  missing=()
  for package in "${packages[@]}"; do deb_installed "$package" || missing+=("$package"); done
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
  command -v bwrap >/dev/null && command -v slirp4netns >/dev/null || die "bubblewrap/slirp4netns installed but not on PATH"
}

# ---- dispatch ------------------------------------------------------------------------------------

[[ $# -eq 1 ]] || usage
case "$1" in
  postgres) start_postgres ;;
  chromium) start_chromium ;;
  sandbox) start_sandbox ;;
  all) for service in "${KNOWN[@]}"; do "start_$service"; done ;;
  *) usage ;;
esac
