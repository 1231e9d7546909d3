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
  // Idle memory (bench/idle.ts). Each module loaded by `await import()` becomes a chunk parsed only when
  // imported: without this the whole bundle, kafkajs and the AWS SDK included, is parsed at every start.
  "--splitting",
  // JavaScriptCore's tier-up thresholds x20 while starting: run-once start-up code stays in the interpreter
  // instead of being JIT-compiled (~3 MB); serve sets the normal policy back once it listens.
  "--compile-jit-policy=20",
  `--define=MINIVERCEL_VERSION=${JSON.stringify(version)}`,
  "src/main.ts",
  "--outfile",
  outfile,
];
const result = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" });
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);
const size = Bun.file(outfile).size;
console.log(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB), version ${version}`);
