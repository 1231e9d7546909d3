// `bun run layout`: the tree's rules that a compiler does not check (docs/architecture.md).
//   - folders depend one way: no import cycle between the folders of src/ and builder/, views/, schema/
//   - production code never imports src/testing/ (test support)
//   - a folder imports the root of src/ only for errors.ts, or `import type` from deps.ts (the Deps vocabulary)
//   - no source folder is named build, dist or out (people and tools read those as output)
// Prints every broken rule with the imports behind it; exits 1 when there is one.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SOURCES = ["src", "builder", "views", "schema"];
const OUTPUT_NAMES = new Set(["build", "dist", "out"]);

const problems: string[] = [];
const files: string[] = [];
function walk(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name === "node_modules") continue;
      if (OUTPUT_NAMES.has(name))
        problems.push(`${relative(ROOT, path)}/: a source folder named like build output`);
      walk(path);
    } else if (/\.tsx?$/.test(name)) files.push(path);
  }
}
for (const dir of SOURCES) walk(join(ROOT, dir));

/** The node a file belongs to: a folder of src/, "src" for its root files, or a top-level folder. */
function nodeOf(path: string): string {
  const parts = relative(ROOT, path).split("/");
  if (parts[0] === "src") return parts.length > 2 ? `src/${parts[1]}` : "src";
  return parts[0] ?? "";
}
const isTestFile = (path: string) => /\.test\.tsx?$|\.contract\.ts$/.test(path);

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^;]*?\bfrom\s+["'](\.[^"']+)["']/gm;
const edges = new Map<string, Map<string, string[]>>();
for (const file of files) {
  const from = nodeOf(file);
  const production = !isTestFile(file) && from !== "src/testing";
  for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const target = resolve(dirname(file), match[3] ?? "");
    const to = nodeOf(target);
    if (!target.startsWith(ROOT) || target.endsWith(".json") || from === to) continue;
    const where = `${relative(ROOT, file)} imports ${relative(ROOT, target)}`;
    if (production && to === "src/testing") problems.push(`${where}: production code imports test support`);
    if (!production) continue;
    if (to === "src") {
      const typeOnly = match[2] !== undefined;
      const allowed = target.endsWith("/errors.ts") || (target.endsWith("/deps.ts") && typeOnly);
      if (!allowed)
        problems.push(`${where}: only errors.ts, or \`import type\` from deps.ts, may come from src/'s root`);
      continue;
    }
    if (from === "src") continue;
    const byTarget = edges.get(from) ?? new Map<string, string[]>();
    edges.set(from, byTarget);
    byTarget.set(to, [...(byTarget.get(to) ?? []), where]);
  }
}

// Strongly connected components (Tarjan): each one with more than one folder is a cycle.
const order = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function visit(node: string): void {
  order.set(node, order.size);
  low.set(node, order.get(node) ?? 0);
  stack.push(node);
  onStack.add(node);
  for (const next of edges.get(node)?.keys() ?? []) {
    if (!order.has(next)) {
      visit(next);
      low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
    } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) ?? 0, order.get(next) ?? 0));
  }
  if (low.get(node) !== order.get(node)) return;
  const component: string[] = [];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    onStack.delete(top);
    component.push(top);
    if (top === node) break;
  }
  if (component.length < 2) return;
  const lines = component.flatMap((a) =>
    [...(edges.get(a) ?? [])].filter(([b]) => component.includes(b)).flatMap(([, why]) => why),
  );
  problems.push(`import cycle between ${component.sort().join(", ")}:\n    ${lines.join("\n    ")}`);
}
for (const node of edges.keys()) if (!order.has(node)) visit(node);

if (problems.length > 0) {
  console.error(`layout: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`layout: ${files.length} files, ${edges.size} folders, no cycle`);
