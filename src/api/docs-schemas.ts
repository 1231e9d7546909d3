// The OpenAPI document, step 2: Elysia's generated JSON Schemas made plain. Elysia renders t.Integer and t.Numeric
// as a union with a numeric string (how it coerces query values) whose `default: 0` is no string: an invalid
// document, and one that hides that the field is a number. The document shows the number alone, with its limits.

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Elysia's coercion branch: `{ type: "string", format: "integer" | "numeric", default: 0 }`. */
const isCoercion = (schema: unknown): boolean =>
  isRecord(schema) &&
  schema.type === "string" &&
  (schema.format === "integer" || schema.format === "numeric");

const isNull = (schema: unknown): boolean => isRecord(schema) && schema.type === "null";

/** A schema of one plain type (no union, no enum) that `type: [T, "null"]` can make nullable. */
const isSimple = (schema: unknown): schema is Record<string, unknown> =>
  isRecord(schema) &&
  typeof schema.type === "string" &&
  !("anyOf" in schema || "oneOf" in schema || "enum" in schema || "const" in schema);

/**
 * Every schema in `value` (a document or part of one) without Elysia's numeric-string branches; a union of a
 * number and null left by removing one becomes `type: [T, "null"]`, as Elysia writes its other nullable fields.
 */
export function plainSchemas(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainSchemas);
  if (!isRecord(value)) return value;
  const node = Object.fromEntries(Object.entries(value).map(([key, child]) => [key, plainSchemas(child)]));
  const { anyOf, ...rest } = node;
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return node;
  // The union's own keywords (limits, default, description) repeat the number's; the number's win.
  const [first, second] = anyOf;
  if (isCoercion(first) && isRecord(second)) return { ...rest, ...second };
  const [kept, other] = isNull(second) ? [first, second] : [second, first];
  if (isNull(other) && isSimple(kept)) return { ...rest, ...kept, type: [kept.type, "null"] };
  return node;
}

/** plainSchemas over a map (of paths, or of named schemas): the same keys. */
export const plainEach = (map: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(map).map(([key, value]) => [key, plainSchemas(value)]));
