// A message page for errors that belong to no form: not found, forbidden, internal error.
/** @jsxImportSource preact */

import { type Chrome, Layout } from "../layout.tsx";

export function ErrorPage(props: { chrome: Chrome; status: number; title: string; message: string }) {
  const { chrome, status, title, message } = props;
  return (
    <Layout chrome={chrome} title={title}>
      <section class="card error-card">
        <p class="error-status">{status}</p>
        <h1>{title}</h1>
        <p>{message}</p>
        <p>
          <a class="button" href="/">
            Back to projects
          </a>
        </p>
      </section>
    </Layout>
  );
}
