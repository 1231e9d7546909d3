// Bench support for bench/proxy.ts (BENCH_IN_PROCESS=1): the proxy's handler alone, in this process, analytics
// on against off.

import { loadConfig } from "../src/config/config.ts";
import { openDeps } from "../src/deps.ts";
import { createProxy } from "../src/proxy/proxy.ts";
import { HOST, PAGES } from "./proxy-site.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * Batches of requests alternate between two proxies over the same data, analytics on and off; no sockets, so the
 * share analytics takes is larger than over HTTP (an upper bound), and less moved by the machine's other load
 * than wrk's figures. `headers` go with every request (a browser's agent and Referer, which analytics parses).
 */
export async function compareInProcess(dataDir: string, headers: Record<string, string>): Promise<void> {
  const open = (analytics: string) =>
    openDeps(loadConfig({ MINIVERCEL_DATA: dataDir, ANALYTICS: analytics }));
  const [depsOn, depsOff] = await Promise.all([open("1"), open("0")]);
  const peer = () => "203.0.113.9";
  const proxies = {
    on: await createProxy(depsOn, {}, { runtime: () => ({}) as never, peer }),
    off: await createProxy(depsOff, {}, { runtime: () => ({}) as never, peer }),
  };
  const paths = Array.from({ length: PAGES }, (_, i) => `/pages/p${i}`);
  const batch = async (which: "on" | "off", n: number, offset: number): Promise<number> => {
    const proxy = proxies[which];
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const request = new Request(`http://${HOST}${paths[(offset + i) % PAGES]}`, {
        headers: { host: HOST, ...headers },
      });
      const result = proxy.fetch(request);
      if (result instanceof Promise) await result;
    }
    return ((performance.now() - started) * 1e6) / n;
  };
  // Warm both (bodies into the memory cache), then alternate.
  await batch("on", 5000, 0);
  await batch("off", 5000, 0);
  const ns: Record<"on" | "off", number[]> = { on: [], off: [] };
  for (let round = 0; round < 20; round++) {
    const first = round % 2 === 0 ? "on" : "off";
    const second = first === "on" ? "off" : "on";
    ns[first].push(await batch(first, 20_000, round * 7));
    ns[second].push(await batch(second, 20_000, round * 7));
    // Timers run between batches, as they do between a real server's requests (analytics' rate for sampling).
    await Bun.sleep(0);
  }
  const on = median(ns.on);
  const off = median(ns.off);
  console.log(
    `\nin process, proxy.fetch of the 1,000 small pages, 20 alternating batches of 20,000 (median ns per request):\n` +
      `| analytics on | analytics off | on / off (throughput) |\n|---|---|---|\n` +
      `| ${on.toFixed(0)} ns | ${off.toFixed(0)} ns | ${(off / on).toFixed(3)} |`,
  );
  await proxies.on.stop();
  await proxies.off.stop();
  await depsOn.close();
  await depsOff.close();
}
