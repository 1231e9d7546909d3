#!/usr/bin/env bash
# Starts the real servers the scale-out tests use, on 127.0.0.1, and installs the tools the end-to-end tests run,
# idempotently: scripts/services.sh <service|all>. stdout carries only each service's connection URL or folder (one
# line per service); diagnostics go to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# sandbox_install and sandbox_missing_programs: the same installer run.sh and install.sh use.
. "$ROOT/scripts/lib/sandbox.sh"
STATE="$ROOT/.services"
# Every service `all` starts; add kafka, clickhouse, moto here as they get a start_<name> function.
KNOWN=(postgres chromium sandbox moto clickhouse kafka pebble schemathesis)

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

# ---- Sandbox: the programs src/sandbox/sandbox.ts runs builds with ---------------------------------

# Not a server either: bubblewrap (namespaces), slirp4netns (a build's network), util-linux (setpriv, unshare,
# prlimit, mount), iproute2 (routes fencing the build's network), git (the clone step), with the package manager
# (scripts/lib/sandbox.sh). Installs only what is missing; stdout stays empty.
start_sandbox() {
  [[ -z $(sandbox_missing_programs) ]] && return
  lock
  sandbox_install services || die "the build sandbox's programs are still missing (see above)"
}

# ---- moto: the S3 and ECS APIs over the real AWS wire protocols, one server for both test suites --------

MOTO_VERSION=5.2.5

# The pid of our moto server when it is alive (a recycled pid running something else does not count).
moto_pid() {
  local pid
  [[ -f $1/pid ]] && pid="$(<"$1/pid")" && [[ $pid =~ ^[0-9]+$ ]] &&
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "$1/venv/bin/moto_server" && echo "$pid"
}

# Answers = moto's own /moto-api/ route replies, not merely something listening on the port.
moto_answers() {
  [[ -f $1/port ]] && "$1/venv/bin/python" -I -S -c '
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/moto-api/config" % sys.argv[1], timeout=2).read()
' "$(<"$1/port")" 2>/dev/null
}

start_moto() {
  local port="${MOTO_PORT:-15000}" dir="$STATE/moto" pid
  [[ $port =~ ^[0-9]+$ ]] || die "MOTO_PORT must be a port number, got '$port'"
  local venv="$dir/venv" marker="$dir/venv/.installed-moto-$MOTO_VERSION"

  # Fast path: already running and answering (checked again under the lock below).
  if ! moto_pid "$dir" >/dev/null || ! moto_answers "$dir"; then
    lock
    mkdir -p "$dir"
    if [[ ! -f $marker ]]; then
      # The marker is written last, so an interrupted install is redone from scratch rather than half used.
      command -v python3 >/dev/null || apt_install python3 python3-venv
      python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
      log "installing moto[server]==$MOTO_VERSION into $venv"
      if pid="$(moto_pid "$dir")"; then kill "$pid" 2>/dev/null || true; fi
      rm -rf "$venv"
      python3 -m venv "$venv" >&2
      "$venv/bin/pip" install --quiet "moto[server]==$MOTO_VERSION" >&2 ||
        die "pip could not install moto[server]==$MOTO_VERSION"
      touch "$marker"
    fi

    if pid="$(moto_pid "$dir")" && ! moto_answers "$dir"; then
      log "moto (pid $pid) does not answer; restarting it"
      kill "$pid" 2>/dev/null || true
      for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi

    if ! moto_pid "$dir" >/dev/null; then
      log "starting moto $MOTO_VERSION on 127.0.0.1:$port (log: $dir/server.log)"
      echo "$port" >"$dir/port"
      # Its own session, stdio on the log and no lock fd: it outlives this script and the caller's pipes.
      (cd "$dir" && exec setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >>"$dir/server.log" 2>&1 9>&-) &
      echo "$!" >"$dir/pid"
      for _ in {1..300}; do
        moto_answers "$dir" && break
        moto_pid "$dir" >/dev/null || { tail -n 20 "$dir/server.log" >&2 || true; die "moto exited at start (log: $dir/server.log)"; }
        sleep 0.1
      done
      moto_answers "$dir" || die "moto did not answer on 127.0.0.1:$port within 30s (log: $dir/server.log)"
    fi
  fi

  # A server left running on another port would make the URL lie.
  local running
  running="$(<"$dir/port")"
  [[ $running == "$port" ]] ||
    die "moto already runs on port $running (pid $(moto_pid "$dir" || echo '?')); stop it or set MOTO_PORT=$running"
  echo "http://127.0.0.1:$port"
}

# ---- ClickHouse: Debian's package (18.16), a private server owned by the `clickhouse` user ------------

CH_SERVER=/usr/sbin/clickhouse-server

# Installs the packages without letting them start the package's own instance (8123 and 9000, our API port):
# a policy-rc.d that forbids it when the machine has none (Docker images ship one that forbids everything),
# then the unit is disabled so no later boot starts it either.
ch_install() {
  local policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '%s\n' '#!/bin/sh' '# scripts/services.sh (minivercel): no clickhouse-server start during its install.' \
      'for a; do [ "$a" = clickhouse-server ] && exit 101; done' 'exit 0' >"$policy"
    chmod 755 "$policy"
    apt_install "$@"
    rm -f "$policy"
    trap - EXIT
  else
    apt_install "$@"
  fi
  if [[ -x /etc/init.d/clickhouse-server ]]; then
    update-rc.d clickhouse-server disable >/dev/null 2>&1 || true
    command -v deb-systemd-helper >/dev/null && { deb-systemd-helper disable clickhouse-server.service >/dev/null 2>&1 || true; }
    # A permissive policy-rc.d let it start: stop it (ours cannot be running yet, the binary was missing).
    invoke-rc.d clickhouse-server stop >/dev/null 2>&1 || true
  fi
}

# Alive = the recorded pid runs our config (pids get reused) and is not a zombie (nothing may reap it here).
ch_alive() {
  local pid state=""
  [[ -f $1/clickhouse.pid ]] && pid="$(<"$1/clickhouse.pid")" && [[ $pid =~ ^[0-9]+$ ]] || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "--config-file=$1/etc/config.xml" || return 1
  read -r _ _ state _ <"/proc/$pid/stat" 2>/dev/null && [[ $state != Z ]]
}

ch_ready() { [[ "$(curl -fsS --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null)" == 1 ]]; }

# Config, users, data and logs all live under $1; only 127.0.0.1, and no port of the package's defaults.
ch_configure() {
  local dir="$1" port="$2" owner="$3"
  install -d -m 755 "$dir/etc"
  install -d -m 750 -o "$owner" -g "$owner" "$dir/data" "$dir/log"
  cat >"$dir/etc/config.xml" <<EOF
<?xml version="1.0"?>
<!-- minivercel test server, written by scripts/services.sh on every start: edits here are lost. -->
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$port</http_port>
    <tcp_port>$((port + 1))</tcp_port>
    <interserver_http_port>$((port + 2))</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/data/tmp/</tmp_path>
    <user_files_path>$dir/data/user_files/</user_files_path>
    <format_schema_path>$dir/data/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
  cat >"$dir/etc/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
        </default>
    </quotas>
</yandex>
EOF
}

start_clickhouse() {
  local port="${CLICKHOUSE_TEST_PORT:-18123}" dir="$STATE/clickhouse" owner running pid i
  # The native and interserver ports are the next two.
  [[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65533)) ||
    die "CLICKHOUSE_TEST_PORT must be a port number between 1024 and 65533, got '$port'"

  # Fast path: already running (checked again under the lock below).
  if ! ch_alive "$dir"; then
    lock
    local missing=()
    [[ -x $CH_SERVER ]] || missing+=(clickhouse-server)
    deb_installed clickhouse-client || missing+=(clickhouse-client)
    command -v curl >/dev/null || missing+=(curl) # the readiness probe
    if [[ ${#missing[@]} -gt 0 ]]; then
      ch_install "${missing[@]}"
      [[ -x $CH_SERVER ]] || die "clickhouse-server installed but $CH_SERVER is missing"
    fi
    if ! ch_alive "$dir"; then
      # The package creates a `clickhouse` system user; without one (or as non-root), stay unprivileged.
      local as=()
      if ((EUID != 0)); then
        owner="$(id -un)"
      elif id clickhouse >/dev/null 2>&1; then
        owner=clickhouse as=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups)
      else
        owner=nobody as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
      fi
      ((EUID != 0)) || runuser -u "$owner" -- test -x "$STATE" ||
        die "the $owner user cannot reach $STATE; make its parent directories world-searchable"
      ch_configure "$dir" "$port" "$owner"
      log "starting ClickHouse on 127.0.0.1:$port (native $((port + 1)), interserver $((port + 2))) as $owner"
      # exec keeps the pid: setsid (not a group leader here, so no fork) and setpriv both exec the server.
      (cd / && exec setsid "${as[@]}" "$CH_SERVER" --config-file="$dir/etc/config.xml") \
        </dev/null >>"$dir/log/stdout.log" 2>&1 9>&- &
      echo "$!" >"$dir/clickhouse.pid"
    fi
  fi

  # A server left running on another port would make the URL lie.
  running="$(sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$dir/etc/config.xml")"
  pid="$(<"$dir/clickhouse.pid")"
  [[ $running == "$port" ]] ||
    die "ClickHouse in $dir already runs on port $running; stop it (kill $pid) or set CLICKHOUSE_TEST_PORT=$running"
  for ((i = 0; i < 600; i++)); do
    ch_ready "$port" && break
    ch_alive "$dir" || { tail -n 20 "$dir/log/clickhouse-server.err.log" "$dir/log/stdout.log" >&2 || true; die "ClickHouse exited (logs: $dir/log)"; }
    sleep 0.1
  done
  ch_ready "$port" || die "ClickHouse (pid $pid) did not answer SELECT 1 on 127.0.0.1:$port within 60 s (logs: $dir/log)"
  echo "http://127.0.0.1:$port"
}

# ---- Kafka: Apache Kafka 4.x in KRaft mode (one node), its Maven Central jars on the machine's Java 17 ------

KAFKA_VERSION=4.4.0
# The log4j 2 binding for the broker's slf4j 1.7 logging (Kafka's own distribution ships it beside log4j-core).
KAFKA_LOG4J_VERSION=2.25.5

# The java to run the broker with: the one on PATH when it is 17 or newer, else Debian's openjdk-17.
kafka_java() {
  local java major
  for java in "$(command -v java || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    [[ -x $java ]] || continue
    major="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')"
    [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)) && echo "$java" && return
  done
  return 1
}

# Downloads the broker's jars once into $1/libs (Maven keeps its own copy in ~/.m2); the marker is written last.
kafka_libs() {
  local dir="$1" marker="$1/libs/.complete-$KAFKA_VERSION"
  [[ -f $marker ]] && return
  command -v mvn >/dev/null || apt_install maven
  log "downloading Apache Kafka $KAFKA_VERSION (org.apache.kafka:kafka_2.13 and its dependencies) from Maven Central"
  cat >"$dir/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/services.sh: the runtime classpath of a Kafka $KAFKA_VERSION broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.minivercel</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$KAFKA_LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$dir/libs.new"
  mvn -B -q -Dstyle.color=never -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/libs.new" >&2 ||
    die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies"
  [[ -f $dir/libs.new/kafka_2.13-$KAFKA_VERSION.jar ]] || die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  rm -rf "$dir/libs"
  mv "$dir/libs.new" "$dir/libs"
  touch "$marker"
}

# The broker's pid when the recorded process is alive and is our broker (pids get reused).
kafka_pid() {
  local pid state=""
  [[ -f $1/kafka.pid ]] && pid="$(<"$1/kafka.pid")" && [[ $pid =~ ^[0-9]+$ ]] || return 1
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "kafka.Kafka $1/server.properties" || return 1
  read -r _ _ state _ <"/proc/$pid/stat" 2>/dev/null && [[ $state != Z ]] && echo "$pid"
}

# Ready = a Metadata request (v7: no topics, no auto-creation) is answered with at least one broker.
# Raw bytes over bash's /dev/tcp: a JVM client would cost seconds of CPU per probe.
kafka_ready() {
  local reply
  reply="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    # length 20 | api key 3, version 7 | correlation id 1 | client id "probe" | topics: [] | allow auto-create: false
    printf "\x00\x00\x00\x14\x00\x03\x00\x07\x00\x00\x00\x01\x00\x05probe\x00\x00\x00\x00\x00" >&3
    head -c 16 <&3 | od -An -tx1' _ "$1" 2>/dev/null | tr -d ' \n')" || return 1
  # size(4) correlation id(4) throttle(4) broker count(4): our correlation id, and a broker count above zero.
  [[ ${#reply} -eq 32 && ${reply:8:8} == 00000001 && ${reply:24:8} != 00000000 ]]
}

kafka_configure() {
  local dir="$1" port="$2" controller="$3"
  cat >"$dir/server.properties" <<EOF2
# minivercel test broker, written by scripts/services.sh on every start: edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
# One node: every internal topic with one replica, and few partitions so a new group is quick to set up.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join and leave groups all the time; no point waiting for more members.
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF2
  cat >"$dir/log4j2.properties" <<'EOF2'
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
EOF2
}

start_kafka() {
  local port="${KAFKA_PORT:-19092}" dir="$STATE/kafka" java pid running i
  [[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65534)) ||
    die "KAFKA_PORT must be a port number between 1024 and 65534, got '$port'"
  # The KRaft controller listens on the next port.
  local controller=$((port + 1))

  # Fast path: already running (checked again under the lock below).
  if ! kafka_pid "$dir" >/dev/null; then
    lock
    mkdir -p "$dir/logs"
    java="$(kafka_java)" || { apt_install openjdk-17-jre-headless && java="$(kafka_java)"; } ||
      die "no Java 17 or newer for Kafka (install openjdk-17-jre-headless)"
    kafka_libs "$dir"
    if ! kafka_pid "$dir" >/dev/null; then
      kafka_configure "$dir" "$port" "$controller"
      local heap=(-Xmx512m -Xms128m) classpath="$dir/libs/*"
      local jvm=("$java" "${heap[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$dir/log4j2.properties" "-Dkafka.logs.dir=$dir/logs" -cp "$classpath")
      if [[ ! -f $dir/data/meta.properties ]]; then
        # A random cluster id: 16 bytes, URL-safe base64 without padding, as `kafka-storage random-uuid` prints,
        # and like it never starting with "-", which the tool's argument parser would take for an option (a CI
        # run failed on one in 64 ids).
        local cluster=-
        while [[ $cluster == -* ]]; do
          cluster="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
        done
        log "formatting Kafka storage in $dir/data (cluster $cluster)"
        rm -rf "$dir/data"
        "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$dir/server.properties" >&2 ||
          die "kafka.tools.StorageTool could not format $dir/data"
      fi
      log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$port (controller $controller, log: $dir/logs/server.log)"
      # Its own session, stdio on a log and no lock fd: it outlives this script and the caller's pipes.
      (cd "$dir" && exec setsid "${jvm[@]}" kafka.Kafka "$dir/server.properties") \
        </dev/null >>"$dir/logs/stdout.log" 2>&1 9>&- &
      echo "$!" >"$dir/kafka.pid"
    fi
  fi

  # A broker left running on another port would make the address lie.
  running="$(sed -n 's/^listeners=PLAINTEXT:\/\/127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$dir/server.properties")"
  pid="$(<"$dir/kafka.pid")"
  [[ $running == "$port" ]] ||
    die "Kafka in $dir already runs on port $running; stop it (kill $pid) or set KAFKA_PORT=$running"
  for ((i = 0; i < 600; i++)); do
    kafka_ready "$port" && break
    kafka_pid "$dir" >/dev/null || { tail -n 20 "$dir/logs/server.log" "$dir/logs/stdout.log" >&2 || true; die "Kafka exited (logs: $dir/logs)"; }
    sleep 0.1
  done
  kafka_ready "$port" || die "Kafka (pid $pid) did not answer a metadata request on 127.0.0.1:$port within 60 s (logs: $dir/logs)"
  echo "127.0.0.1:$port"
}

# ---- Pebble: Let's Encrypt's ACME test server, for the automatic-HTTPS tests (src/tls/) --------------

PEBBLE_VERSION=v2.10.3

# Not a server: each HTTPS test file starts its own pebble + pebble-challtestsrv on free ports (src/tls/pebble.ts).
# This builds both with the Go toolchain into $STATE/pebble, with pebble's test certificates (the CA its own
# HTTPS listener uses) in $STATE/pebble/certs, and prints that directory.
# Pebble needs Go >= PEBBLE_GO_MIN. A machine's own go is used when new enough; otherwise (Debian's golang-go
# is older, or no Go at all) the official toolchain comes from the Go module proxy, which serves Go itself as
# the module golang.org/toolchain, into .services/go-toolchain. Prints the go binary's path.
PEBBLE_GO_MIN=1.25
PEBBLE_GO_FALLBACK=1.25.14
go_toolchain() {
  local have
  if command -v go >/dev/null; then
    have="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
    if [[ -n $have && "$(printf '%s\n%s\n' "$PEBBLE_GO_MIN" "$have" | sort -V | head -n 1)" == "$PEBBLE_GO_MIN" ]]; then
      command -v go
      return
    fi
  fi
  local root="$STATE/go-toolchain" arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Go toolchain for $(uname -m); install Go >= $PEBBLE_GO_MIN" ;;
  esac
  local module="golang.org/toolchain@v0.0.1-go$PEBBLE_GO_FALLBACK.linux-$arch"
  if [[ ! -x $root/$module/bin/go ]]; then
    command -v unzip >/dev/null || apt_install unzip
    command -v curl >/dev/null || apt_install curl ca-certificates
    local proxy="${GOPROXY:-https://proxy.golang.org}"
    proxy="${proxy%%,*}"
    [[ $proxy == direct || $proxy == off ]] && proxy=https://proxy.golang.org
    log "fetching Go $PEBBLE_GO_FALLBACK from $proxy (the machine's Go is missing or older than $PEBBLE_GO_MIN)"
    rm -rf "$root.partial" && mkdir -p "$root.partial"
    curl -fsSL --retry 3 -o "$root.partial/go.zip" \
      "$proxy/golang.org/toolchain/@v/v0.0.1-go$PEBBLE_GO_FALLBACK.linux-$arch.zip" ||
      die "could not download Go $PEBBLE_GO_FALLBACK from $proxy"
    unzip -q "$root.partial/go.zip" -d "$root.partial" || die "could not unpack Go $PEBBLE_GO_FALLBACK"
    rm -f "$root.partial/go.zip"
    rm -rf "$root" && mv "$root.partial" "$root"
    chmod -R u+w "$root"
  fi
  [[ -x $root/$module/bin/go ]] || die "Go toolchain missing in $root/$module"
  echo "$root/$module/bin/go"
}

start_pebble() {
  local dir="$STATE/pebble" marker="$STATE/pebble/.installed-$PEBBLE_VERSION"
  if [[ ! -f $marker ]]; then
    lock
    if [[ ! -f $marker ]]; then
      local go
      go="$(go_toolchain)"
      log "building pebble $PEBBLE_VERSION into $dir with $("$go" version)"
      rm -rf "$dir"
      mkdir -p "$dir/certs"
      # A private GOPATH and cache under .services, writable so that rm -rf can clean them up.
      local gopath="$STATE/go"
      GOPATH="$gopath" GOCACHE="$gopath/cache" GOFLAGS=-modcacherw GOBIN="$dir" GOTOOLCHAIN=local \
        "$go" install "github.com/letsencrypt/pebble/v2/cmd/pebble@$PEBBLE_VERSION" \
        "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$PEBBLE_VERSION" >&2 ||
        die "go install of pebble $PEBBLE_VERSION failed"
      local src="$gopath/pkg/mod/github.com/letsencrypt/pebble/v2@$PEBBLE_VERSION/test/certs"
      cp "$src/pebble.minica.pem" "$dir/certs/minica.pem"
      cp "$src/localhost/cert.pem" "$dir/certs/localhost-cert.pem"
      cp "$src/localhost/key.pem" "$dir/certs/localhost-key.pem"
      touch "$marker"
    fi
  fi
  [[ -x $dir/pebble && -x $dir/pebble-challtestsrv ]] || die "pebble binaries missing in $dir"
  echo "$dir"
}

# ---- Schemathesis: the API's contract tests (src/api/contract.e2e.test.ts) -------------------------------

SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

# Not a server: Schemathesis (`st`) and openapi-spec-validator in a venv of their own, installed once; prints the
# venv's bin directory (the tests run both from there).
start_schemathesis() {
  local dir="$STATE/schemathesis"
  local venv="$dir/venv" marker="$dir/venv/.installed-$SCHEMATHESIS_VERSION-$OPENAPI_SPEC_VALIDATOR_VERSION"
  if [[ ! -f $marker ]]; then
    lock
    if [[ ! -f $marker ]]; then
      # The marker is written last, so an interrupted install is redone from scratch rather than half used.
      command -v python3 >/dev/null || apt_install python3 python3-venv
      python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
      log "installing schemathesis==$SCHEMATHESIS_VERSION and openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION into $venv"
      mkdir -p "$dir"
      rm -rf "$venv"
      python3 -m venv "$venv" >&2
      "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" \
        "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" >&2 ||
        die "pip could not install schemathesis==$SCHEMATHESIS_VERSION and openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
      touch "$marker"
    fi
  fi
  [[ -x $venv/bin/st && -x $venv/bin/openapi-spec-validator ]] || die "st or openapi-spec-validator missing in $venv/bin"
  echo "$venv/bin"
}

# ---- dispatch ------------------------------------------------------------------------------------

[[ $# -eq 1 ]] || usage
case "$1" in
  postgres) start_postgres ;;
  chromium) start_chromium ;;
  sandbox) start_sandbox ;;
  clickhouse) start_clickhouse ;;
  moto) start_moto ;;
  kafka) start_kafka ;;
  pebble) start_pebble ;;
  schemathesis) start_schemathesis ;;
  all) for service in "${KNOWN[@]}"; do "start_$service"; done ;;
  *) usage ;;
esac
