// The version: replaced at compile time by scripts/build.ts (--define), read from package.json in development.

import pkg from "../../package.json" with { type: "json" };

declare const MINIVERCEL_VERSION: string | undefined;

export const VERSION: string = typeof MINIVERCEL_VERSION === "string" ? MINIVERCEL_VERSION : pkg.version;
