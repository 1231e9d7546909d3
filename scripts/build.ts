// Release build: one hermetic executable, dist/minivercel, with the version fixed at build time.
// Usage: bun scripts/build.ts [outfile] [--target=bun-linux-arm64] [--version=X] (default: this machine, package.json)

import pkg from "../package.json" with { type: "json" };

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const outfile = args.find((a) => !a.startsWith("--")) ?? "dist/minivercel";
const version = flag("version") ?? pkg.version;
const target = flag("target");
const argv = [
  process.execPath,
  "build",
  "--compile",
  ...(target ? [`--target=${target}`] : []),
  "--minify",
  "--sourcemap=none",
  // No implicit .env or bunfig.toml from wherever the binary happens to run.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  `--define=MINIVERCEL_VERSION=${JSON.stringify(version)}`,
  "src/main.ts",
  "--outfile",
  outfile,
];
const result = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" });
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
const size = Bun.file(outfile).size;
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB), version ${version}`);
