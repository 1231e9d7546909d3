// Accepting a team invitation: the signed-in user confirms joining (a POST, so a link alone changes nothing).
/** @jsxImportSource preact */

import { FormError, type FormErrors } from "../components/field.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

export function InvitationPage(props: { chrome: Chrome; email: string; action: string; errors: FormErrors }) {
  const { chrome, email, action, errors } = props;
  return (
    <Layout chrome={chrome} title="Team invitation" nav="teams">
      <div class="page-head">
        <h1>Join a team</h1>
      </div>
      <section class="card">
        <p>
          You were invited to a team. Accepting joins it as <strong>{email}</strong>, with the role the
          invitation names.
        </p>
        <FormError errors={errors} />
        <form method="post" action={action} class="inline-form" id="accept-form">
          <Csrf token={chrome.csrf} />
          <button type="submit" class="button primary">
            Accept invitation
          </button>
        </form>
      </section>
    </Layout>
  );
}
