// Maps any error thrown while handling an API request to the one JSON error shape; never leaks internals.

import { ValidationError } from "elysia";
import { AppError, type ErrorCode } from "../errors.ts";

export interface ErrorPayload {
  error: { code: ErrorCode; message: string; field?: string };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** "/body/name" -> "name"; "/limit" -> "limit". */
function fieldOf(path: string | undefined): string | undefined {
  const parts = (path ?? "").split("/").filter((p) => p.length > 0);
  return parts.length > 0 ? parts.join(".") : undefined;
}

/** The values a union of literals allows (its own message says only "expected union value"), else null. */
function literalChoices(schema: unknown): string[] | null {
  if (!isRecord(schema) || !Array.isArray(schema.anyOf)) return null;
  const values = schema.anyOf.map((s: unknown) =>
    isRecord(s) && (typeof s.const === "string" || typeof s.const === "number") ? String(s.const) : null,
  );
  return values.length > 0 && values.every((v) => v !== null) ? (values as string[]) : null;
}

/** What a nullable setting (`X | null`) takes, from X's bounds (TypeBox says only "expected union value"). */
function nullableDetail(schema: unknown): string | null {
  if (!isRecord(schema) || !Array.isArray(schema.anyOf) || schema.anyOf.length !== 2) return null;
  const [value, other] = schema.anyOf as unknown[];
  if (!isRecord(value) || !isRecord(other) || other.type !== "null") return null;
  if (value.type === "integer" && typeof value.minimum === "number" && typeof value.maximum === "number")
    return `must be a whole number from ${value.minimum} to ${value.maximum}, or null`;
  if (value.type === "string" && typeof value.maxLength === "number")
    return `must be a string of at most ${value.maxLength} characters, or null`;
  return null;
}

function describeValidation(error: ValidationError): { message: string; field?: string } {
  const first = error.all[0];
  if (!first) return { message: `invalid ${error.type}` };
  // A query value Elysia converted itself (an integer) is checked without its name: schemas carry it as a title.
  const titled =
    isRecord(first.schema) && typeof first.schema.title === "string" ? first.schema.title : undefined;
  const field = ("path" in first ? fieldOf(first.path) : undefined) ?? titled;
  const choices = literalChoices(first.schema);
  const bounds = nullableDetail(first.schema);
  const detail = choices
    ? `must be one of ${choices.join(", ")}`
    : bounds
      ? bounds
      : "message" in first && typeof first.message === "string"
        ? first.message.toLowerCase()
        : "is invalid";
  if (field === undefined) {
    return { message: `${error.type}: ${detail}` };
  }
  // Missing required properties and unknown ones both read better spelled out.
  if (first.value === undefined) return { message: `${field} is required`, field };
  return { message: `${field}: ${detail}`, field };
}

/**
 * Elysia's error codes plus ours -> status and payload. Unknown errors become a bare 500, and go to `report`
 * (the server log, with the request's id: the caller knows the request) since the client is told nothing.
 */
export function toErrorResponse(
  error: unknown,
  elysiaCode: unknown,
  report: (error: unknown) => void,
): { status: number; body: ErrorPayload } {
  if (error instanceof AppError) {
    const payload: ErrorPayload = { error: { code: error.code, message: error.message } };
    if (error.field) payload.error.field = error.field;
    return { status: error.status, body: payload };
  }
  if (error instanceof ValidationError) {
    const { message, field } = describeValidation(error);
    return { status: 422, body: { error: { code: "validation_failed", message, ...(field && { field }) } } };
  }
  switch (elysiaCode) {
    case "PARSE":
      return {
        status: 400,
        body: { error: { code: "bad_request", message: "request body is not valid JSON" } },
      };
    case "NOT_FOUND":
      return { status: 404, body: { error: { code: "not_found", message: "no such route" } } };
    case "INVALID_COOKIE_SIGNATURE":
      return { status: 401, body: { error: { code: "unauthorized", message: "invalid cookie" } } };
  }
  // Elysia raises status errors (e.g. 413 for an oversized body); keep their status but not their text.
  const status =
    typeof error === "object" && error !== null && "status" in error && typeof error.status === "number"
      ? error.status
      : 500;
  if (status === 413) {
    return { status, body: { error: { code: "payload_too_large", message: "request body is too large" } } };
  }
  if (status >= 400 && status < 500) {
    return { status, body: { error: { code: "bad_request", message: "bad request" } } };
  }
  report(error);
  return { status: 500, body: { error: { code: "internal", message: "internal error" } } };
}
