// Form fields with their label, hint and inline error (from an AppError's `field`).
/** @jsxImportSource preact */

import type { ComponentChildren } from "preact";

/** Field name -> message; "_form" holds an error that belongs to no single field. */
export type FormErrors = Record<string, string>;
/** What the user typed, re-rendered after an error. */
export type FormValues = Record<string, string>;

interface FieldProps {
  name: string;
  label: string;
  values: FormValues;
  errors: FormErrors;
  type?: "text" | "email" | "password" | "url" | "number";
  hint?: ComponentChildren;
  placeholder?: string;
  required?: boolean;
  autocomplete?: string;
  autofocus?: boolean;
  monospace?: boolean;
  /** The id of a <datalist> of suggestions. */
  list?: string;
}

export function Field(props: FieldProps) {
  const { name, label, values, errors, hint, type = "text" } = props;
  const id = `f-${name}`;
  const error = errors[name];
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        value={type === "password" ? "" : (values[name] ?? "")}
        placeholder={props.placeholder}
        required={props.required}
        autocomplete={props.autocomplete ?? "off"}
        autofocus={props.autofocus || Boolean(error)}
        class={props.monospace ? "mono" : undefined}
        list={props.list}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={described || undefined}
        spellcheck={false}
      />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** An error not tied to one field, shown above the form's buttons. */
export function FormError({ errors }: { errors: FormErrors }) {
  const message = errors._form;
  return message ? (
    <p class="form-error" role="alert">
      {message}
    </p>
  ) : null;
}

/**
 * A form that htmx posts, swapping in the same form (or the `region` around it) from the re-rendered page,
 * errors included; on success the server answers with a redirect. Without JavaScript it posts as usual.
 */
export function HxForm(props: {
  id: string;
  action: string;
  children: ComponentChildren;
  class?: string;
  region?: string;
}) {
  const target = props.region ?? props.id;
  return (
    <form
      id={props.id}
      method="post"
      action={props.action}
      class={props.class}
      hx-post={props.action}
      hx-target={`#${target}`}
      hx-select={`#${target}`}
      hx-swap="outerHTML"
      novalidate
    >
      {props.children}
    </form>
  );
}
