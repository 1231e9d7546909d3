// How this program starts itself again (the builder subcommand): the compiled binary, or bun + the entry file.

import { resolve } from "node:path";

/** argv prefix that runs `minivercel` in a child process, in development and in the compiled binary alike. */
export function selfCommand(): string[] {
  // A compiled Bun executable embeds its sources under /$bunfs; there the binary itself is the program.
  if (Bun.main.startsWith("/$bunfs") || Bun.main.startsWith("B:/~BUN")) return [process.execPath];
  return [process.execPath, resolve(import.meta.dir, "../main.ts")];
}
