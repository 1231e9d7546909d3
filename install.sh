#!/bin/sh
# minivercel install and upgrade, for one Linux server (x64 or arm64) with systemd:
#
#   curl -fsSL https://github.com/OWNER/minivercel/releases/latest/download/install.sh | sudo sh
#   curl -fsSL .../install.sh | sudo sh -s -- --version 0.2.0
#
# Downloads the release binary for this machine, checks it against the release's SHA256SUMS, installs it as
# <prefix>/bin/minivercel (atomically), creates the `minivercel` system user, the data directory
# /var/lib/minivercel and the settings file /etc/default/minivercel, installs what local builds need when it is
# missing (bubblewrap, slirp4netns, util-linux, iproute2, git, with apt-get, dnf or apk), then installs, enables
# and starts the systemd unit minivercel.service, and ends with `minivercel doctor`'s checks of this host.
# Running it again upgrades in place: the binary and the unit are replaced and the service restarted; the data
# directory and the settings file are kept as they are.
#
# Options:
#   --version V     release to install (default: the latest)
#   --prefix DIR    install the binary in DIR/bin (default: /usr/local)
#   --no-systemd    write the unit file but neither enable nor start it (containers, or to start it yourself)
#   --unprivileged  run the service as the `minivercel` user; local builds then need BUILD_SANDBOX=none or ECS,
#                   because the build sandbox needs root (each build runs as its own uid, under cgroup limits)
#   --root DIR      install everything under DIR instead of / (packaging, tests): no user is created and
#                   systemd is not touched (missing build programs are still installed on this machine)
#   --no-packages   install no packages (a package that declares bubblewrap & co. as its dependencies)
# Environment:
#   MINIVERCEL_RELEASE_URL  where releases are: files at <url>/download/v<version>/<file> and
#                           <url>/latest/download/<file> (GitHub's layout)
set -eu

RELEASE_URL="${MINIVERCEL_RELEASE_URL:-https://github.com/OWNER/minivercel/releases}"
VERSION=latest
PREFIX=/usr/local
ROOT=""
PACKAGES=1
SYSTEMD=1
UNPRIVILEGED=0

say() { printf 'minivercel install: %s\n' "$*"; }
die() {
	printf 'minivercel install: error: %s\n' "$*" >&2
	exit 1
}
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
usage() {
	cat <<'EOF'
usage: install.sh [--version V] [--prefix DIR] [--no-systemd] [--unprivileged] [--root DIR] [--no-packages]
Installs or upgrades minivercel: the release binary (sha256-checked) in <prefix>/bin, the minivercel system
user, /var/lib/minivercel, /etc/default/minivercel (kept on upgrade), what local builds need (bubblewrap,
slirp4netns, util-linux, iproute2, git) and minivercel.service (started).
  --version V     release to install (default: the latest)
  --prefix DIR    install the binary in DIR/bin (default: /usr/local)
  --no-systemd    write the unit file but neither enable nor start it
  --unprivileged  run the service as the minivercel user (local builds then need BUILD_SANDBOX=none or ECS)
  --root DIR      install under DIR instead of / (packaging, tests): no user created, systemd untouched
  --no-packages   install no packages for local builds (apt-get, dnf or apk otherwise)
  MINIVERCEL_RELEASE_URL  base URL of the releases (default https://github.com/OWNER/minivercel/releases)
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--version) need_value "$@"; VERSION=$2; shift 2 ;;
	--version=*) VERSION=${1#*=}; shift ;;
	--prefix) need_value "$@"; PREFIX=$2; shift 2 ;;
	--prefix=*) PREFIX=${1#*=}; shift ;;
	--root) need_value "$@"; ROOT=$2; shift 2 ;;
	--root=*) ROOT=${1#*=}; shift ;;
	--no-systemd) SYSTEMD=0; shift ;;
	--unprivileged) UNPRIVILEGED=1; shift ;;
	--no-packages) PACKAGES=0; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
done

VERSION=${VERSION#v}
case $VERSION in "" | *[!A-Za-z0-9._+-]*) die "--version '$VERSION' is not a version like 0.2.0" ;; esac
case $PREFIX in /*) ;; *) die "--prefix must be an absolute path" ;; esac
case $ROOT in "" | /*) ;; *) die "--root must be an absolute path" ;; esac
ROOT=${ROOT%/}

# ---- this machine -------------------------------------------------------------------------------------
[ "$(uname -s)" = Linux ] || die "minivercel runs on Linux only (this is $(uname -s))"
case $(uname -m) in
x86_64 | amd64) ARCH=x64 ;;
aarch64 | arm64) ARCH=arm64 ;;
*) die "no minivercel release for this architecture ($(uname -m)); build from source instead" ;;
esac
if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
	die "run it as root (curl -fsSL .../install.sh | sudo sh), or install under a directory with --root DIR"
fi

if command -v curl >/dev/null 2>&1; then
	fetch() { curl -fsSL --retry 3 --proto '=https,http' -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
	fetch() { wget -q -O "$2" "$1"; }
else
	die "curl or wget is needed to download the release"
fi
if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
	die "sha256sum (coreutils) is needed to check the download"
fi

BIN_DIR="$ROOT$PREFIX/bin"
BIN="$BIN_DIR/minivercel"
DATA=/var/lib/minivercel
SETTINGS=/etc/default/minivercel
UNIT=/etc/systemd/system/minivercel.service

# ---- download and check -------------------------------------------------------------------------------
FILE="minivercel-linux-$ARCH"
if [ "$VERSION" = latest ]; then BASE="$RELEASE_URL/latest/download"; else BASE="$RELEASE_URL/download/v$VERSION"; fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/minivercel-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

say "downloading $BASE/$FILE"
fetch "$BASE/$FILE" "$TMP/$FILE" || die "could not download $BASE/$FILE (is version '$VERSION' released?)"
fetch "$BASE/SHA256SUMS" "$TMP/SHA256SUMS" || die "could not download $BASE/SHA256SUMS"
EXPECTED=$(awk -v f="$FILE" '$2 == f || $2 == "*" f { print $1; exit }' "$TMP/SHA256SUMS")
case $EXPECTED in
"" | *[!0-9a-f]*) die "SHA256SUMS of the release has no checksum for $FILE" ;;
esac
ACTUAL=$(sha256 "$TMP/$FILE")
[ "$ACTUAL" = "$EXPECTED" ] || die "checksum mismatch for $FILE (expected $EXPECTED, got $ACTUAL): nothing was installed"
chmod 0755 "$TMP/$FILE"
NEW_VERSION=$("$TMP/$FILE" --version 2>/dev/null) || die "the downloaded $FILE does not run on this machine: nothing was installed"

# ---- sandbox.sh begin: a verbatim copy of scripts/lib/sandbox.sh (edit that file, then copy it here) ----------
# The programs local builds run on the host (the build sandbox's, and git), installed when missing with the
# host's package manager (apt-get, dnf or apk) as root; not as root, one line naming the command to run.
# POSIX sh, sourced by scripts/run.sh and scripts/services.sh; install.sh carries a verbatim copy between its
# "sandbox.sh" marker lines (it is a single file in releases). src/sandbox/packages.ts holds the same table;
# scripts/lib/sandbox.test.ts keeps the three equal. Messages go to stderr; variables are prefixed with _sandbox_.

SANDBOX_PROGRAMS="bwrap setpriv unshare mount chown prlimit slirp4netns ip git"
SANDBOX_SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The package that gives program $2 with package manager $1.
sandbox_package() {
	case $2 in
	bwrap) echo bubblewrap ;;
	slirp4netns) echo slirp4netns ;;
	setpriv | unshare | prlimit) echo util-linux ;;
	mount) if [ "$1" = apt-get ]; then echo mount; else echo util-linux; fi ;;
	chown) echo coreutils ;;
	ip) if [ "$1" = dnf ]; then echo iproute; else echo iproute2; fi ;;
	git) echo git ;;
	esac
}

# Whether program $1 is an executable file in one of the ':'-separated directories $2.
sandbox_in_path() {
	_sandbox_rest="$2:"
	while [ -n "$_sandbox_rest" ]; do
		_sandbox_dir=${_sandbox_rest%%:*}
		_sandbox_rest=${_sandbox_rest#*:}
		if [ -n "$_sandbox_dir" ] && [ -f "$_sandbox_dir/$1" ] && [ -x "$_sandbox_dir/$1" ]; then return 0; fi
	done
	return 1
}

# The programs missing where the server looks for them: BUILD_SANDBOX_PATH when set, else the system's directories.
sandbox_missing_programs() {
	_sandbox_missing=""
	for _sandbox_program in $SANDBOX_PROGRAMS; do
		sandbox_in_path "$_sandbox_program" "${BUILD_SANDBOX_PATH:-$SANDBOX_SYSTEM_PATH}" ||
			_sandbox_missing="$_sandbox_missing $_sandbox_program"
	done
	echo "${_sandbox_missing# }"
}

# The package manager: the first of apt-get, dnf, apk on PATH, else in the system's directories; empty: none.
sandbox_manager() {
	for _sandbox_where in "$PATH" "$SANDBOX_SYSTEM_PATH"; do
		for _sandbox_manager in apt-get dnf apk; do
			if sandbox_in_path "$_sandbox_manager" "$_sandbox_where"; then
				echo "$_sandbox_manager"
				return 0
			fi
		done
	done
}

# The packages of programs $2... with package manager $1, each once, space-separated.
sandbox_packages() {
	_sandbox_for=$1
	shift
	_sandbox_packages=" "
	for _sandbox_program in "$@"; do
		_sandbox_package=$(sandbox_package "$_sandbox_for" "$_sandbox_program")
		case $_sandbox_packages in *" $_sandbox_package "*) ;; *) _sandbox_packages="$_sandbox_packages$_sandbox_package " ;; esac
	done
	_sandbox_packages=${_sandbox_packages# }
	echo "${_sandbox_packages% }"
}

# The command that installs packages $2... with package manager $1.
sandbox_install_command() {
	_sandbox_for=$1
	shift
	case $_sandbox_for in
	apt-get) echo "apt-get install -y $*" ;;
	dnf) echo "dnf install -y $*" ;;
	apk) echo "apk add $*" ;;
	esac
}

# Installs what is missing. As root with the package manager; otherwise it prints the one command to run.
# Returns 0 when nothing is missing afterwards. $1 names the caller in messages ("run.sh", "minivercel install").
sandbox_install() {
	_sandbox_who=${1:-minivercel}
	_sandbox_missing=$(sandbox_missing_programs)
	[ -z "$_sandbox_missing" ] && return 0
	_sandbox_manager=$(sandbox_manager)
	if [ -z "$_sandbox_manager" ]; then
		printf '%s: local builds need %s; no apt-get, dnf or apk here: install the packages %s (Debian names)\n' \
			"$_sandbox_who" "$_sandbox_missing" "$(sandbox_packages apt-get $_sandbox_missing)" >&2
		return 1
	fi
	_sandbox_packages=$(sandbox_packages "$_sandbox_manager" $_sandbox_missing)
	if [ "$(id -u 2>/dev/null)" != 0 ]; then
		printf '%s: local builds need %s; install them with: sudo %s\n' "$_sandbox_who" "$_sandbox_missing" \
			"$(sandbox_install_command "$_sandbox_manager" $_sandbox_packages)" >&2
		return 1
	fi
	printf '%s: installing %s (for %s) with %s\n' "$_sandbox_who" "$_sandbox_packages" "$_sandbox_missing" \
		"$_sandbox_manager" >&2
	case $_sandbox_manager in
	apt-get)
		# The package lists are refreshed only when the first attempt fails (a fresh machine has none).
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $_sandbox_packages >&2 ||
			{ DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $_sandbox_packages >&2; }
		;;
	dnf) dnf install -y $_sandbox_packages >&2 ;;
	apk) apk add --no-cache $_sandbox_packages >&2 ;;
	esac || {
		printf '%s: %s could not install %s: run %s\n' "$_sandbox_who" "$_sandbox_manager" "$_sandbox_packages" \
			"$(sandbox_install_command "$_sandbox_manager" $_sandbox_packages)" >&2
		return 1
	}
	_sandbox_missing=$(sandbox_missing_programs)
	if [ -n "$_sandbox_missing" ]; then
		printf '%s: still missing after installing %s: %s\n' "$_sandbox_who" "$_sandbox_packages" "$_sandbox_missing" >&2
		return 1
	fi
}
# ---- sandbox.sh end ----------------------------------------------------------------------------------------

# ---- install ------------------------------------------------------------------------------------------
OLD_VERSION=""
if [ -x "$BIN" ]; then OLD_VERSION=$("$BIN" --version 2>/dev/null || echo "an unknown version"); fi
# An unprivileged install stays unprivileged on upgrade.
if [ -f "$ROOT$UNIT" ] && grep -q '^User=minivercel$' "$ROOT$UNIT"; then UNPRIVILEGED=1; fi

mkdir -p "$BIN_DIR" "$ROOT$DATA" "$ROOT/etc/default" "$ROOT/etc/systemd/system"
# Copied next to the target first, so the rename is atomic: a running service keeps its old file until restart.
cp "$TMP/$FILE" "$BIN_DIR/.minivercel.new"
chmod 0755 "$BIN_DIR/.minivercel.new"
mv -f "$BIN_DIR/.minivercel.new" "$BIN"

if [ -z "$ROOT" ]; then
	if ! id -u minivercel >/dev/null 2>&1; then
		command -v useradd >/dev/null 2>&1 || die "useradd is needed to create the minivercel system user"
		useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin minivercel
		say "created the system user minivercel"
	fi
	chown minivercel:minivercel "$DATA"
	# Running unprivileged, the service must own what a root service wrote before.
	if [ "$UNPRIVILEGED" = 1 ]; then chown -R minivercel:minivercel "$DATA"; fi
else
	say "--root: not creating the system user minivercel (useradd --system minivercel would own $DATA)"
fi
chmod 0750 "$ROOT$DATA"

if [ ! -f "$ROOT$SETTINGS" ]; then
	cat >"$ROOT$SETTINGS" <<EOF
# minivercel settings, read by minivercel.service (docs/configuration.md lists every variable).
# Kept when install.sh upgrades minivercel. Apply changes with: systemctl restart minivercel
MINIVERCEL_DATA=$DATA
PORT=9000
PROXY_PORT=8001
# The dashboard's domain; projects are served at <subdomain>.<SITES_DOMAIN> (default BASE_DOMAIN): point
# wildcard DNS records at this server. Public installations: give sites a registrable domain of their own, so
# no site can set cookies the dashboard receives (docs/security.md), and turn HTTPS on.
# BASE_DOMAIN=example.com
# SITES_DOMAIN=example-sites.com
# Automatic HTTPS from Let's Encrypt (docs/operations.md: HTTPS): sites and the dashboard on 443, port 80 redirects.
# PROXY_PORT=80
# ACME_DIRECTORY_URL=https://acme-v02.api.letsencrypt.org/directory
# ACME_EMAIL=you@example.com
# Prometheus metrics at http://127.0.0.1:9100/metrics (docs/operations.md: Metrics and logs)
# METRICS_PORT=9100
# GC_INTERVAL_MINUTES=60
# PREVIEW_RETENTION_DAYS=30
EOF
	chmod 0640 "$ROOT$SETTINGS"
	if [ -z "$ROOT" ]; then chown root:minivercel "$SETTINGS"; fi
fi

if [ "$UNPRIVILEGED" = 1 ]; then
	RUN_AS="User=minivercel
Group=minivercel
# Unprivileged: nothing here needs to gain privileges or write outside the data directory.
NoNewPrivileges=true
# Ports 80 and 443 for automatic HTTPS, without root.
AmbientCapabilities=CAP_NET_BIND_SERVICE
ProtectSystem=strict
ReadWritePaths=$DATA"
else
	RUN_AS="# Root, because the build sandbox needs it: each build runs as its own uid (setpriv) inside bubblewrap,
# under its own cgroup limits, with slirp4netns for its network. So no NoNewPrivileges (bwrap is setuid
# where unprivileged user namespaces are off), no RestrictNamespaces/PrivateUsers/SystemCallFilter (the
# sandbox creates user, mount, pid and network namespaces), no PrivateDevices (slirp4netns opens
# /dev/net/tun), no ProtectControlGroups/ProtectKernelTunables (it writes the builds' cgroups in /sys).
ProtectSystem=full"
fi
cat >"$ROOT$UNIT.new" <<EOF
# Written by install.sh (replaced on upgrade; put local changes in a drop-in: systemctl edit minivercel).
[Unit]
Description=minivercel: deployments of static and front-end sites
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=$PREFIX/bin/minivercel serve
EnvironmentFile=$SETTINGS
WorkingDirectory=$DATA
Environment=HOME=$DATA
Restart=on-failure
RestartSec=2
# SIGTERM to serve alone (it drains: SHUTDOWN_TIMEOUT_SECONDS, default 20), not to its builds; SIGKILL after.
KillMode=mixed
TimeoutStopSec=45
LimitNOFILE=65536
$RUN_AS
ProtectHome=read-only
PrivateTmp=true

[Install]
WantedBy=multi-user.target
EOF
mv -f "$ROOT$UNIT.new" "$ROOT$UNIT"

# What local builds run on this machine, before the service starts: its first deploy can build.
if [ "$PACKAGES" = 1 ]; then
	sandbox_install "minivercel install" || say "local builds fail until that is done; the rest works (the checks below say more)"
fi

if [ -n "$OLD_VERSION" ]; then
	say "upgraded $BIN from $OLD_VERSION to $NEW_VERSION (data in $ROOT$DATA and $ROOT$SETTINGS kept)"
else
	say "installed minivercel $NEW_VERSION as $BIN"
fi

# ---- start --------------------------------------------------------------------------------------------
STARTED=0
if [ "$SYSTEMD" = 0 ]; then
	say "--no-systemd: $ROOT$UNIT written, not enabled or started"
elif [ -n "$ROOT" ]; then
	say "--root: would run: systemctl daemon-reload && systemctl enable minivercel && systemctl restart minivercel"
elif [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null 2>&1; then
	say "systemd is not running here: start it with: cd $DATA && $PREFIX/bin/minivercel serve"
else
	systemctl daemon-reload
	systemctl enable --quiet minivercel
	# restart also starts a stopped service; an upgrade takes effect here.
	systemctl restart minivercel
	STARTED=1
fi

PORT=$(sed -n 's/^PORT=\([0-9][0-9]*\)$/\1/p' "$ROOT$SETTINGS" | tail -n 1)
PORT=${PORT:-9000}
HOST=$(hostname -I 2>/dev/null | cut -d' ' -f1) || true
HOST=${HOST:-localhost}
if [ "$STARTED" = 1 ]; then
	i=0
	until fetch "http://127.0.0.1:$PORT/api/health" "$TMP/health" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -ge 20 ]; then
			say "the service did not answer on port $PORT yet: see journalctl -u minivercel"
			break
		fi
		sleep 1
	done
fi

# ---- check --------------------------------------------------------------------------------------------
# What the service needs from this host (sandbox, ports, DNS, services), as the service would run: its settings,
# its data directory, its user. A failed check does not undo the install: each line says how to fix it.
say "checking this host with: minivercel doctor --env-file $SETTINGS"
AS_USER=""
if [ "$UNPRIVILEGED" = 1 ] && [ -z "$ROOT" ] && command -v runuser >/dev/null 2>&1; then AS_USER="runuser -u minivercel --"; fi
STATUS=0
$AS_USER "$BIN" doctor --env-file "$ROOT$SETTINGS" --data "$ROOT$DATA" || STATUS=$?
case $STATUS in
0) say "all checks passed" ;;
1) say "some checks failed: fix the FAIL lines above (each says how), then run: minivercel doctor --env-file $SETTINGS" ;;
*) say "could not run minivercel doctor (exit $STATUS)" ;;
esac

cat <<EOF

  minivercel $NEW_VERSION
  dashboard   http://$HOST:$PORT
  settings    $ROOT$SETTINGS (then: systemctl restart minivercel)
  data        $ROOT$DATA

EOF
if [ -z "$OLD_VERSION" ]; then
	# The CLI writes the database as whoever runs it: as the service's user, so the service can still write it.
	AS_SERVICE=""
	if [ "$UNPRIVILEGED" = 1 ]; then AS_SERVICE="sudo -u minivercel "; fi
	cat <<EOF
  First account: open http://$HOST:$PORT/setup, or on this server:
    echo 'a long password' | $AS_SERVICE$PREFIX/bin/minivercel user create you@example.com --password-stdin --data $DATA

EOF
fi
