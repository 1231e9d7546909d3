// `minivercel hooks`: a project's outgoing webhooks (deployment events), their delivery log and redelivery.

import { Type } from "@sinclair/typebox";
import { parseArgs, UsageError } from "./args.ts";
import type { Api } from "./http.ts";
import { projectFor } from "./project-ref.ts";
import { expectShape } from "./responses.ts";

export const HOOKS_HELP = `Usage: minivercel hooks [ls | add URL | rm ID | deliveries ID | redeliver ID DELIVERY]
                        [--events E,E...] [--format standard|slack|discord] [--project ID|SUBDOMAIN]

  hooks ls                      list the project's outgoing webhooks
  hooks add URL                 send deployment events to URL; prints the signing secret once (whsec_...)
    --events                    comma-separated, default all: created, ready, failed, promoted, rolled_back
                                (with or without the "deployment." prefix)
    --format                    standard (signed JSON event, default), slack ({text}) or discord ({content})
  hooks rm ID                   remove a webhook
  hooks deliveries ID           its latest deliveries, each attempt with its status code or error
  hooks redeliver ID DELIVERY   send a delivery again now`;

const EVENTS = ["created", "ready", "failed", "promoted", "rolled_back"] as const;
const FORMATS = ["standard", "slack", "discord"] as const;

const Hook = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  format: Type.String(),
  createdAt: Type.String(),
});
const HookList = Type.Object({ items: Type.Array(Hook) });
const CreatedHook = Type.Object({ secret: Type.String(), hook: Hook });
const Attempt = Type.Object({
  at: Type.String(),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
});
const DeliveryList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      event: Type.String(),
      status: Type.String(),
      attempts: Type.Integer(),
      nextAttemptAt: Type.String(),
      createdAt: Type.String(),
      log: Type.Array(Attempt),
    }),
  ),
});

/** "ready,deployment.failed" -> ["deployment.ready", "deployment.failed"]; a UsageError names an unknown one. */
function eventsOf(value: string | undefined): string[] {
  if (value === undefined) return EVENTS.map((e) => `deployment.${e}`);
  return value.split(",").map((raw) => {
    const name = raw.trim().replace(/^deployment\./, "");
    if (!(EVENTS as readonly string[]).includes(name))
      throw new UsageError(`unknown event '${raw.trim()}': use ${EVENTS.join(", ")}`);
    return `deployment.${name}`;
  });
}

export async function hooksCommand(api: Api, args: string[], out: (text: string) => void): Promise<number> {
  const parsed = parseArgs(args, { values: ["project", "events", "format"] });
  const [action = "ls", first, second, more] = parsed.positionals;
  const none = (...given: (string | undefined)[]) => {
    const unexpected = given.find((g) => g !== undefined);
    if (unexpected !== undefined) throw new UsageError(`unexpected argument '${unexpected}'`);
  };
  // Arguments are checked before the project is looked up: a usage error needs no server.
  if (action === "add") {
    none(second);
    if (!first) throw new UsageError("give the URL to send events to");
    const format = parsed.values.format ?? "standard";
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`unknown format '${format}': use ${FORMATS.join(", ")}`);
    const events = eventsOf(parsed.values.events);
    const target = await projectFor(api, parsed.values.project, process.cwd());
    const created = expectShape(
      CreatedHook,
      await api.json("POST", `/api/projects/${target.id}/hooks`, { url: first, events, format }),
      "hook",
    );
    out(
      `added ${created.hook.id} -> ${created.hook.url} (${created.hook.format}: ${created.hook.events.join(", ")})`,
    );
    out(`signing secret (shown once): ${created.secret}`);
    return 0;
  }
  if (!["ls", "rm", "deliveries", "redeliver"].includes(action))
    throw new UsageError(`unknown subcommand 'hooks ${action}'`);
  if (action === "ls") none(first);
  if ((action === "rm" || action === "deliveries") && !first)
    throw new UsageError("give the webhook's ID ('hooks ls' lists them)");
  if (action === "rm" || action === "deliveries") none(second);
  if (action === "redeliver" && (!first || !second))
    throw new UsageError("give the webhook's ID and the delivery's ID ('hooks deliveries ID' lists them)");
  none(more);
  const target = await projectFor(api, parsed.values.project, process.cwd());
  const path = `/api/projects/${target.id}/hooks`;
  const hookPath = `${path}/${encodeURIComponent(first ?? "")}`;
  switch (action) {
    case "ls": {
      const hooks = expectShape(HookList, await api.json("GET", path), "hooks");
      if (hooks.items.length === 0) out("no outgoing webhooks");
      for (const h of hooks.items) out(`${h.id}  ${h.format}  ${h.url}  ${h.events.join(",")}`);
      return 0;
    }
    case "rm":
      await api.json("DELETE", hookPath);
      out(`removed ${first}`);
      return 0;
    case "deliveries": {
      const list = expectShape(DeliveryList, await api.json("GET", `${hookPath}/deliveries`), "deliveries");
      if (list.items.length === 0) out("no deliveries yet");
      for (const d of list.items) {
        out(`${d.id}  ${d.event}  ${d.status}  ${d.attempts} attempt(s)  ${d.createdAt}`);
        for (const a of d.log)
          out(`    ${a.at}  ${a.statusCode ?? "-"}  ${a.durationMs} ms${a.error ? `  ${a.error}` : ""}`);
      }
      return 0;
    }
    default:
      await api.json("POST", `${hookPath}/deliveries/${encodeURIComponent(second ?? "")}/redeliver`);
      out(`queued ${second} again`);
      return 0;
  }
}
