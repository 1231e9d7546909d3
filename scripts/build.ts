// Release build: one hermetic executable, dist/minivercel, with the version fixed at build time.

import pkg from "../package.json" with { type: "json" };

const outfile = process.argv[2] ?? "dist/minivercel";
const argv = [
  process.execPath,
  "build",
  "--compile",
  "--minify",
  "--sourcemap=none",
  // No implicit .env or bunfig.toml from wherever the binary happens to run.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  `--define=MINIVERCEL_VERSION=${JSON.stringify(pkg.version)}`,
  "src/main.ts",
  "--outfile",
  outfile,
];
const result = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" });
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
const size = Bun.file(outfile).size;
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB), version ${pkg.version}`);
