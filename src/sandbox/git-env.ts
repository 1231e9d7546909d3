// git's environment for every run against a repository or remote a user named (a build's clone, a branch listing,
// settings detection): no prompts, no system or user config, no hooks, no ext:: transport and no file:// one
// unless local repositories are allowed, no stored credentials. Each caller adds its own settings (and HOME, PATH).

/** `-c` settings for git, in order (a later one wins). */
export type GitSettings = [key: string, value: string][];

/**
 * The environment, with `settings` after the common ones. GIT_CONFIG_COUNT/KEY/VALUE act as `-c` options for
 * every git command the environment reaches, also those a script runs.
 */
export function hardenedGitEnv(allowLocal: boolean, settings: GitSettings = []): Record<string, string> {
  const all: GitSettings = [
    ["core.hooksPath", "/dev/null"],
    ["core.fsmonitor", "false"],
    ["protocol.ext.allow", "never"],
    ["protocol.file.allow", allowLocal ? "always" : "never"],
    ["credential.helper", ""],
    ...settings,
  ];
  return {
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "/bin/false",
    SSH_ASKPASS: "/bin/false",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=8",
    GIT_ALLOW_PROTOCOL: allowLocal ? "file:https:http:ssh:git" : "https:http:ssh:git",
    GIT_CONFIG_COUNT: String(all.length),
    ...Object.fromEntries(
      all.flatMap(([key, value], i) => [
        [`GIT_CONFIG_KEY_${i}`, key],
        [`GIT_CONFIG_VALUE_${i}`, value],
      ]),
    ),
  };
}
