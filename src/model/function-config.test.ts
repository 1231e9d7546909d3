// `.vc-config.json` and prerender configs as framework adapters and `vercel build` write them.

import { describe, expect, test } from "bun:test";
import { FUNCTION_MAX_DURATION_SECONDS, parseFunctionConfig } from "./function-config.ts";
import { parsePrerenderConfig } from "./prerender-config.ts";

const node = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ runtime: "nodejs20.x", handler: "index.mjs", launcherType: "Nodejs", ...extra });

describe(".vc-config.json", () => {
  test("node and edge functions, with their defaults", () => {
    expect(parseFunctionConfig(node())).toEqual({
      spec: {
        runtime: "nodejs",
        runtimeName: "nodejs20.x",
        handler: "index.mjs",
        helpers: false,
        memoryMb: 1024,
        maxDurationSeconds: 60,
        environment: {},
      },
    });
    const edge = parseFunctionConfig(JSON.stringify({ runtime: "edge", entrypoint: "./index.js" }));
    expect("spec" in edge && edge.spec).toMatchObject({
      runtime: "edge",
      handler: "index.js",
      helpers: false,
    });
  });

  test('./ handlers, maxDuration "max", helpers on, memory and environment', () => {
    const parsed = parseFunctionConfig(
      node({
        handler: "./dist/index.js",
        maxDuration: "max",
        shouldAddHelpers: true,
        memory: 512,
        environment: { A: "1" },
      }),
    );
    expect("spec" in parsed && parsed.spec).toMatchObject({
      handler: "dist/index.js",
      maxDurationSeconds: FUNCTION_MAX_DURATION_SECONDS.max,
      helpers: true,
      memoryMb: 512,
      environment: { A: "1" },
    });
  });

  test("what cannot run is named", () => {
    const problem = (text: string) => {
      const parsed = parseFunctionConfig(text);
      return "problem" in parsed ? parsed.problem : null;
    };
    expect(problem("{")).toBe(".vc-config.json is not valid JSON");
    expect(problem(JSON.stringify({ runtime: "python3.12", handler: "x.py" }))).toContain(
      'runtime "python3.12" is not supported',
    );
    expect(problem(node({ launcherType: "Bridge" }))).toBe("launcherType: expected 'Nodejs'");
    expect(problem(node({ handler: "../escape.js" }))).toBe(
      'handler "../escape.js" is not a path inside the function',
    );
    expect(problem(node({ memory: 64 }))).toBe("memory must be 128 to 3008 MB, got 64");
  });
});

describe("prerender config", () => {
  test("expiration, tokens, query and a fallback as vercel build writes it", () => {
    const parsed = parsePrerenderConfig(
      JSON.stringify({
        expiration: false,
        bypassToken: "t".repeat(32),
        fallback: { type: "FileFsRef", fsPath: "index.prerender-fallback.html" },
        allowQuery: ["page"],
      }),
    );
    expect("config" in parsed && parsed.config).toEqual({
      expiration: null,
      bypassToken: "t".repeat(32),
      fallback: "index.prerender-fallback.html",
      allowQuery: ["page"],
      passQuery: false,
      initialStatus: 200,
      initialHeaders: {},
    });
    const bad = parsePrerenderConfig(JSON.stringify({ expiration: "soon" }));
    expect("problem" in bad && bad.problem).toContain("prerender config expiration");
  });
});
