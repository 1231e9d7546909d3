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
