// Build sandbox, mode "bwrap": the prepare script, the bwrap command line and the /etc the build sees.

import fs from "node:fs";
import path from "node:path";
import type { SandboxRun } from "./sandbox.ts";

/** Where the command sees the workspace and the cache in mode "bwrap" (re-exported by sandbox.ts). */
export const SANDBOX_WORKSPACE = "/workspace";
export const SANDBOX_CACHE = "/cache";

const INNER_UID = "1000";
export const INNER_HOME = "/tmp/home";

// Runs as root inside a private mount namespace: joins the cgroups (before anything untrusted exists), makes
// the given IPv4 prefixes unreachable in the build's network namespace (which the build cannot change), then
// bind-mounts the workspace, the cache and the read-only sources (made read-only here) under a world-searchable
// tmpfs, because bwrap (already running as the unprivileged uid) must be able to resolve its bind sources.
// Arguments: stage workspace cache cgroup-procs-file... -- unreachable-prefix... -- read-only-source... -- command...
export const PREPARE = `set -eu
stage=$1 workspace=$2 cache=$3
shift 3
while [ "$1" != -- ]; do
  echo $$ >"$1" || { echo "sandbox: cannot join cgroup $1" >&2; exit 125; }
  shift
done
shift
while [ "$1" != -- ]; do
  ip route add unreachable "$1" || { echo "sandbox: cannot block $1" >&2; exit 125; }
  shift
done
shift
mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev minivercel-stage "$stage"
mkdir "$stage/workspace" "$stage/cache"
mount --bind "$workspace" "$stage/workspace"
[ -z "$cache" ] || mount --bind "$cache" "$stage/cache"
i=0
while [ "$1" != -- ]; do
  if [ -d "$1" ]; then mkdir "$stage/ro$i"; else : >"$stage/ro$i"; fi
  mount --bind "$1" "$stage/ro$i" && mount -o remount,bind,ro,nosuid,nodev "$stage/ro$i" ||
    { echo "sandbox: cannot bind $1" >&2; exit 125; }
  i=$((i + 1))
  shift
done
shift
exec "$@"`;

// Namespaces and the read-only system: the part of every bwrap command line that does not vary.
export const SANDBOX_BASE = [
  ...["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"],
  ...["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"],
];

// Host files the sandbox may read (certificates, dynamic loader, alternatives symlinks, time zone).
const ETC_BINDS = [
  "/etc/ssl/certs",
  "/etc/ssl/openssl.cnf",
  "/etc/ca-certificates",
  "/etc/alternatives",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/localtime",
  "/etc/protocols",
  "/etc/services",
  "/etc/os-release",
  "/etc/debian_version",
  "/etc/gai.conf",
  "/etc/host.conf",
];

// Files generated for the sandbox instead of the host's own.
export const ETC_FILES: Record<string, string> = {
  "/etc/passwd": `root:x:0:0:root:/root:/usr/sbin/nologin\nbuild:x:${INNER_UID}:${INNER_UID}:build:${INNER_HOME}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
  "/etc/group": `root:x:0:\nbuild:x:${INNER_UID}:\nnogroup:x:65534:\n`,
  "/etc/hosts": "127.0.0.1 localhost build\n::1 localhost\n",
  "/etc/resolv.conf": "nameserver 10.0.2.3\n",
  "/etc/nsswitch.conf":
    "passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n",
};

/** bwrap's options; `fdOf` names the descriptors carrying the generated /etc files, the env and the handshakes. */
export function bwrapArgs(
  run: SandboxRun,
  cwd: string,
  stage: string,
  withCache: boolean,
  fdOf: (name: string) => string,
): string[] {
  const handshake = [
    "--info-fd",
    fdOf("info"),
    ...(run.network === "registry" ? ["--block-fd", fdOf("block")] : []),
  ];
  return [
    ...SANDBOX_BASE,
    // "registry": the network namespace is the one unshare made (root-owned, so the build cannot reconfigure
    // it); slirp4netns brings up its lo and tap0. bwrap setting up lo at the same time would race with it.
    ...(run.network === "registry" ? ["--share-net"] : []),
    ...rootLinks(),
    ...["--clearenv", "--uid", INNER_UID, "--gid", INNER_UID, "--hostname", "build"],
    // tmpfs pages are charged to the memory cgroup; the size also bounds /tmp when cgroups are unavailable.
    ...["--size", String(run.limits.memoryBytes), "--perms", "1777", "--tmpfs", "/tmp", "--dir", INNER_HOME],
    ...ETC_BINDS.flatMap((file) => ["--ro-bind-try", file, file]),
    ...Object.keys(ETC_FILES).flatMap((file) => ["--ro-bind-data", fdOf(file), file]),
    ...["--bind", `${stage}/workspace`, SANDBOX_WORKSPACE],
    ...(withCache ? ["--bind", `${stage}/cache`, SANDBOX_CACHE] : []),
    ...(run.readOnly ?? []).flatMap((bind, i) => ["--ro-bind", `${stage}/ro${i}`, bind.target]),
    ...["--remount-ro", "/", "--chdir", path.posix.join(SANDBOX_WORKSPACE, cwd)],
    // The environment travels through a pipe, not argv, so build secrets never show up in the host's `ps`.
    ...["--args", fdOf("args"), ...handshake],
    ...["--", "/bin/sh", "-c", run.command, "sh", ...(run.args ?? [])],
  ];
}

// /bin, /lib, ... as on the host: symlinks into /usr on merged-/usr systems, read-only binds otherwise.
export function rootLinks(): string[] {
  return ["bin", "sbin", "lib", "lib32", "lib64", "libx32"].flatMap((name) => {
    const where = `/${name}`;
    const stat = fs.lstatSync(where, { throwIfNoEntry: false });
    if (stat === undefined) return [];
    if (stat.isSymbolicLink()) return ["--symlink", fs.readlinkSync(where), where];
    return stat.isDirectory() ? ["--ro-bind", where, where] : [];
  });
}
