// A function's `<name>.prerender-config.json` (Build Output API v3): its responses may be cached and served to
// everyone (Incremental Static Regeneration), refreshed in the background once `expiration` seconds old.

import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

const Schema = Type.Object({
  expiration: Type.Union([Type.Integer({ minimum: 0 }), Type.Literal(false)]),
  group: Type.Optional(Type.Integer()),
  bypassToken: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  /** A file name beside the function, or, as `vercel build` writes it, `{ type: "FileFsRef", fsPath }`. */
  fallback: Type.Optional(
    Type.Union([
      Type.String({ minLength: 1, maxLength: 1024 }),
      Type.Object({ fsPath: Type.String({ minLength: 1, maxLength: 1024 }) }),
    ]),
  ),
  allowQuery: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 })),
  passQuery: Type.Optional(Type.Boolean()),
  initialHeaders: Type.Optional(Type.Record(Type.String(), Type.String())),
  initialStatus: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
});
const check = TypeCompiler.Compile(Schema);

/** The fields that change what we do; the rest of the file is accepted and has no effect here. */
export interface PrerenderConfig {
  /** Seconds a cached response stays fresh; null: forever (until an on-demand revalidation). */
  expiration: number | null;
  /** Requests carrying it (`x-prerender-revalidate`) render anew; a `__prerender_bypass` cookie skips the cache. */
  bypassToken: string | null;
  /** The prerender's fallback file beside the function (served until the first render is cached). */
  fallback: string | null;
  /** Query parameters that make different cache entries; null: all of them; []: none. */
  allowQuery: string[] | null;
  /** The function sees the request's query even when it is not part of the cache key. */
  passQuery: boolean;
  /** Status and headers of the fallback file. */
  initialStatus: number;
  initialHeaders: Record<string, string>;
}

export function parsePrerenderConfig(text: string): { config: PrerenderConfig } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: "the prerender config is not valid JSON" };
  }
  if (!check.Check(value)) {
    const error = check.Errors(value).First();
    const field = error?.path.replace(/^\//, "").replaceAll("/", ".") || "the file";
    const message = error
      ? `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`
      : "has the wrong shape";
    return { problem: `prerender config ${field}: ${message}` };
  }
  return {
    config: {
      expiration: value.expiration === false ? null : value.expiration,
      bypassToken: value.bypassToken ?? null,
      fallback: typeof value.fallback === "object" ? value.fallback.fsPath : (value.fallback ?? null),
      allowQuery: value.allowQuery ?? null,
      passQuery: value.passQuery ?? false,
      initialStatus: value.initialStatus ?? 200,
      initialHeaders: value.initialHeaders ?? {},
    },
  };
}
