// Release files, as install.sh downloads them: dist/minivercel-linux-x64, dist/minivercel-linux-arm64,
// dist/install.sh and dist/SHA256SUMS (`sha256sum -c` format). Upload them all to the release.
// Usage: bun scripts/release.ts [--version=X] [--out=DIR]
// arm64 is cross-compiled (bun fetches that runtime once); when it cannot be, it is skipped with a note.

import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import pkg from "../package.json" with { type: "json" };

const flag = (name: string) =>
  process.argv
    .slice(2)
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3);
const version = flag("version") ?? pkg.version;
const out = flag("out") ?? "dist";
const root = new URL("..", import.meta.url).pathname;

const TARGETS = [
  { file: "minivercel-linux-x64", target: "bun-linux-x64", required: true },
  { file: "minivercel-linux-arm64", target: "bun-linux-arm64", required: false },
] as const;

mkdirSync(out, { recursive: true });
const built: string[] = [];
for (const { file, target, required } of TARGETS) {
  const outfile = join(out, file);
  const build = Bun.spawnSync(
    [process.execPath, "scripts/build.ts", outfile, `--target=${target}`, `--version=${version}`],
    { cwd: root, stdout: "inherit", stderr: "inherit" },
  );
  if (build.exitCode === 0) built.push(outfile);
  else if (required) process.exit(build.exitCode ?? 1);
  else console.warn(`note: skipped ${file}: bun could not build ${target} here (offline?)`);
}

const installer = join(out, "install.sh");
copyFileSync(join(root, "install.sh"), installer);
let sums = "";
for (const path of [...built, installer]) {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  sums += `${hasher.digest("hex")}  ${basename(path)}\n`;
}
writeFileSync(join(out, "SHA256SUMS"), sums);
console.log(
  `release ${version} in ${out}: ${[...built, installer].map((p) => basename(p)).join(", ")}, SHA256SUMS`,
);
