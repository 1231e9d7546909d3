// First-run setup (create the first account) and sign in.
/** @jsxImportSource preact */

import { Field, FormError, type FormErrors, type FormValues, HxForm } from "../components/field.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

interface Props {
  chrome: Chrome;
  values: FormValues;
  errors: FormErrors;
}

export function SetupPage({ chrome, values, errors }: Props) {
  return (
    <Layout chrome={chrome} title="Create the first account">
      <section class="auth-card card">
        <h1>Welcome to minivercel</h1>
        <p class="muted">
          Create the first account to start deploying. Later accounts are added with{" "}
          <code>minivercel user create</code>.
        </p>
        <HxForm id="setup-form" action="/setup" class="stack">
          <Csrf token={chrome.csrf} />
          <Field
            name="email"
            label="Email"
            type="email"
            values={values}
            errors={errors}
            autocomplete="email"
            required
            autofocus
          />
          <Field
            name="password"
            label="Password"
            type="password"
            values={values}
            errors={errors}
            autocomplete="new-password"
            hint="At least 8 characters."
            required
          />
          <FormError errors={errors} />
          <button type="submit" class="button primary">
            Create account
          </button>
        </HxForm>
      </section>
    </Layout>
  );
}

export function LoginPage({ chrome, values, errors, next }: Props & { next: string }) {
  return (
    <Layout chrome={chrome} title="Sign in">
      <section class="auth-card card">
        <h1>Sign in</h1>
        <HxForm id="login-form" action="/login" class="stack">
          <Csrf token={chrome.csrf} />
          <input type="hidden" name="next" value={next} />
          <Field
            name="email"
            label="Email"
            type="email"
            values={values}
            errors={errors}
            autocomplete="username"
            required
            autofocus
          />
          <Field
            name="password"
            label="Password"
            type="password"
            values={values}
            errors={errors}
            autocomplete="current-password"
            required
          />
          <FormError errors={errors} />
          <button type="submit" class="button primary">
            Sign in
          </button>
        </HxForm>
      </section>
    </Layout>
  );
}
