// Build Output API v3: the shapes of `.vercel/output/config.json` (https://vercel.com/docs/build-output-api/configuration),
// as TypeBox schemas. They describe the whole format, including what minivercel refuses (middleware, locale,
// mitigate...), so that a refusal can name the field instead of calling it malformed. Limits follow Vercel's own
// schema (packages/routing-utils/src/schemas.ts).

import { type Static, type TSchema, Type } from "@sinclair/typebox";

const Str = (maxLength = 4096) => Type.String({ maxLength });
const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);

/** A `has`/`missing` value: a regular expression matching the whole value, or comparisons (all must hold). */
export const MatchableValue = Type.Union([
  Str(),
  Type.Object(
    {
      eq: Opt(Type.Union([Str(), Type.Number()])),
      neq: Opt(Str()),
      inc: Opt(Type.Array(Str(), { maxItems: 256 })),
      ninc: Opt(Type.Array(Str(), { maxItems: 256 })),
      pre: Opt(Str()),
      suf: Opt(Str()),
      re: Opt(Str()),
      gt: Opt(Type.Number()),
      gte: Opt(Type.Number()),
      lt: Opt(Type.Number()),
      lte: Opt(Type.Number()),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
]);
export type MatchableValue = Static<typeof MatchableValue>;

export const HasCondition = Type.Union([
  Type.Object({ type: Type.Literal("host"), value: MatchableValue }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Union([Type.Literal("header"), Type.Literal("cookie"), Type.Literal("query")]),
      key: Str(),
      value: Opt(MatchableValue),
    },
    { additionalProperties: false },
  ),
]);
export type HasCondition = Static<typeof HasCondition>;

/** A transform's target key: a name, or comparisons on names (no regular expression, as in Vercel's schema). */
export const TransformKey = Type.Union([
  Str(),
  Type.Object(
    {
      eq: Opt(Type.Union([Str(), Type.Number()])),
      neq: Opt(Str()),
      inc: Opt(Type.Array(Str(), { maxItems: 256 })),
      ninc: Opt(Type.Array(Str(), { maxItems: 256 })),
      pre: Opt(Str()),
      suf: Opt(Str()),
      gt: Opt(Type.Number()),
      gte: Opt(Type.Number()),
      lt: Opt(Type.Number()),
      lte: Opt(Type.Number()),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
]);
export type TransformKey = Static<typeof TransformKey>;

export const Transform = Type.Object(
  {
    type: Type.Union([
      Type.Literal("request.headers"),
      Type.Literal("request.query"),
      Type.Literal("response.headers"),
      Type.Literal("request.path"),
    ]),
    op: Type.Union([Type.Literal("append"), Type.Literal("set"), Type.Literal("delete")]),
    target: Opt(Type.Object({ key: TransformKey }, { additionalProperties: false })),
    args: Opt(Type.Union([Str(), Type.Array(Str(), { minItems: 1, maxItems: 64 })])),
    env: Opt(Type.Array(Str(256), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type Transform = Static<typeof Transform>;

const Has = Type.Array(HasCondition, { maxItems: 16 });

/** A Source route as written (with routing-utils' `source`/`destination`/`statusCode` aliases). */
export const SourceRouteInput = Type.Object(
  {
    src: Opt(Str()),
    source: Opt(Str()),
    dest: Opt(Str()),
    destination: Opt(
      Type.Union([
        Str(),
        Type.Object(
          { type: Opt(Type.Literal("service")), service: Str(64), path: Opt(Str()) },
          { additionalProperties: false },
        ),
      ]),
    ),
    headers: Opt(Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Str(32768))),
    methods: Opt(Type.Array(Str(32), { maxItems: 10 })),
    continue: Opt(Type.Boolean()),
    caseSensitive: Opt(Type.Boolean()),
    check: Opt(Type.Boolean()),
    status: Opt(Type.Integer({ minimum: 100, maximum: 999 })),
    statusCode: Opt(Type.Integer({ minimum: 100, maximum: 999 })),
    has: Opt(Has),
    missing: Opt(Has),
    transforms: Opt(Type.Array(Transform, { minItems: 1, maxItems: 64 })),
    /** Deprecated in Vercel's schema: headers that the function's own response cannot replace. */
    important: Opt(Type.Boolean()),
    /** Deprecated: forget the status and headers set by earlier routes. */
    override: Opt(Type.Boolean()),
    user: Opt(Type.Boolean()),
    isInternal: Opt(Type.Boolean()),
    respectOriginCacheControl: Opt(Type.Boolean()),
    // Described so that refusing them can name them:
    locale: Opt(Type.Unknown()),
    middleware: Opt(Type.Number()),
    middlewarePath: Opt(Type.String()),
    middlewareRawSrc: Opt(Type.Array(Type.String())),
    mitigate: Opt(Type.Unknown()),
    env: Opt(Type.Array(Str(256), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type SourceRouteInput = Static<typeof SourceRouteInput>;

export const PHASES = ["filesystem", "resource", "miss", "rewrite", "hit", "error"] as const;
export type Phase = (typeof PHASES)[number];

export const HandleRouteInput = Type.Object(
  {
    handle: Type.Union(PHASES.map((phase) => Type.Literal(phase))),
    src: Opt(Str()),
    dest: Opt(Str()),
    status: Opt(Type.Integer()),
  },
  { additionalProperties: false },
);

export const Images = Type.Object(
  {
    sizes: Type.Array(Type.Integer({ minimum: 1, maximum: 10000 }), { minItems: 1, maxItems: 64 }),
    domains: Type.Array(Str(256), { maxItems: 256 }),
    remotePatterns: Opt(
      Type.Array(
        Type.Object(
          {
            protocol: Opt(Type.Union([Type.Literal("http"), Type.Literal("https")])),
            hostname: Str(256),
            port: Opt(Str(8)),
            pathname: Opt(Str()),
            search: Opt(Str()),
          },
          { additionalProperties: false },
        ),
        { maxItems: 256 },
      ),
    ),
    localPatterns: Opt(
      Type.Array(Type.Object({ pathname: Opt(Str()), search: Opt(Str()) }, { additionalProperties: false }), {
        maxItems: 256,
      }),
    ),
    qualities: Opt(Type.Array(Type.Integer({ minimum: 1, maximum: 100 }), { minItems: 1, maxItems: 20 })),
    minimumCacheTTL: Opt(Type.Integer({ minimum: 0 })),
    formats: Opt(Type.Array(Type.Union([Type.Literal("image/avif"), Type.Literal("image/webp")]))),
    dangerouslyAllowSVG: Opt(Type.Boolean()),
    contentSecurityPolicy: Opt(Str()),
    contentDispositionType: Opt(Type.Union([Type.Literal("inline"), Type.Literal("attachment")])),
  },
  { additionalProperties: false },
);
export type Images = Static<typeof Images>;

export const Overrides = Type.Record(
  Str(),
  Type.Object({ path: Opt(Str()), contentType: Opt(Str(256)) }, { additionalProperties: false }),
);

export const Crons = Type.Array(
  Type.Object({ path: Str(512), schedule: Str(256) }, { additionalProperties: false }),
  { maxItems: 100 },
);

export const Wildcard = Type.Array(
  Type.Object({ domain: Str(256), value: Str() }, { additionalProperties: false }),
);

/** What the framework adapter says about itself: SvelteKit writes `{slug, version}`, Nitro `{name, version}`. */
export const Framework = Type.Record(Type.String(), Type.Unknown());

/** Something config.json asks for: refused (error, the deploy fails) or accepted with a caveat (warning). */
export interface ConfigProblem {
  message: string;
  severity: "error" | "warning";
}
