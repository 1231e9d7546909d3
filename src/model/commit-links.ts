// Where a commit can be seen on its git host: GitHub, GitLab and Bitbucket, from the project's https or ssh git URL.
// Any other host, a local path or the platform's own push remote has no such page, so no link is made.

const HOSTS: Record<string, (path: string, sha: string) => string> = {
  "github.com": (path, sha) => `https://github.com/${path}/commit/${sha}`,
  "gitlab.com": (path, sha) => `https://gitlab.com/${path}/-/commit/${sha}`,
  "bitbucket.org": (path, sha) => `https://bitbucket.org/${path}/commits/${sha}`,
};

// owner/repo on GitHub and Bitbucket; GitLab groups nest (group/subgroup/repo).
const PATH = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+$/;

/** The web page of `sha` in the repository at `gitUrl`, or null when its host is not one we know. */
export function commitUrl(gitUrl: string | null, sha: string | null): string | null {
  if (!gitUrl || !sha || !/^[0-9a-f]{7,40}$/.test(sha)) return null;
  const where = hostAndPath(gitUrl.trim());
  if (!where) return null;
  const make = HOSTS[where.host];
  const path = where.path.replace(/\.git$/, "").replace(/\/+$/, "");
  if (!make || !PATH.test(path) || path.split("/").some((part) => part === "." || part === "..")) return null;
  if (where.host !== "gitlab.com" && path.split("/").length !== 2) return null;
  return make(path, sha);
}

function hostAndPath(url: string): { host: string; path: string } | null {
  // scp-like ssh: git@github.com:owner/repo.git
  const scp = /^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(?!\/)(.+)$/.exec(url);
  if (scp?.[1] && scp[2]) return { host: scp[1].toLowerCase(), path: scp[2] };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!["https:", "http:", "ssh:", "git:"].includes(parsed.protocol)) return null;
  if (parsed.search || parsed.hash) return null;
  return {
    host: parsed.hostname.toLowerCase(),
    path: decodeURIComponent(parsed.pathname).replace(/^\/+/, ""),
  };
}
