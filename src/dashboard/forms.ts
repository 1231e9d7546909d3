// Form plumbing: body schemas, submitted values, and domain errors turned into inline field errors.

import { t } from "elysia";
import type { FormErrors, FormValues } from "../../views/components/field.tsx";
import { AppError } from "../errors.ts";

/** An optional text field; limits are generous so the domain rules, not the schema, explain what is wrong. */
export const Text = (maxLength = 4096) => t.Optional(t.String({ maxLength }));

/** The CSRF field every form carries (checked before validation, by the session guard). */
export const CsrfField = { _csrf: Text(200) };

/** The submitted fields as strings, for re-rendering the form. */
export function valuesOf(body: Record<string, string | undefined>): FormValues {
  const values: FormValues = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== "_csrf" && typeof value === "string") values[key] = value;
  }
  return values;
}

/**
 * An error the user can fix by changing the form -> its message next to the field it names
 * (labelled as the form labels it), or above the buttons. Anything else -> null (rethrow it).
 */
export function formErrors(error: unknown, labels: Record<string, string>): FormErrors | null {
  if (!(error instanceof AppError) || error.status >= 500 || error.status === 403 || error.status === 404) {
    return null;
  }
  const field = error.field && Object.hasOwn(labels, error.field) ? error.field : null;
  if (!field) return { _form: capitalize(error.message) };
  const label = labels[field] ?? field;
  // Domain messages start with the API's field name ("gitUrl must be ..."); show the form's label instead.
  const message = error.message.startsWith(`${field} `)
    ? `${label}${error.message.slice(field.length)}`
    : error.message;
  return { [field]: capitalize(message) };
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** What the status of a re-rendered form should be. */
export const errorStatus = (error: unknown): number => (error instanceof AppError ? error.status : 422);
