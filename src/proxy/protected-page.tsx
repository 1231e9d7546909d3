// Proxy: deployment protection's page, answered on a protected host to a visitor without access. It lives on
// the deployment's own host, so it is self-contained (inline style, no script, nothing from the dashboard).
/** @jsxImportSource preact */

interface Props {
  /** The dashboard's sign-in hand-off for this host and path. */
  signInUrl: string;
  /** Present when the project has a password: the form's one-use token and where to go afterwards. */
  password: { formToken: string; next: string; error: string | null } | null;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;background:#fafafa;color:#111;display:grid;place-items:center;
min-height:100vh;margin:0}main{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:2rem;max-width:24rem;
width:100%}h1{font-size:1.25rem;margin:0 0 .5rem}p{color:#555;margin:.5rem 0 1rem}input{width:100%;box-sizing:border-box;
padding:.5rem;margin:.25rem 0 .75rem;border:1px solid #ccc;border-radius:4px}button,a.button{display:inline-block;
padding:.5rem 1rem;border-radius:4px;border:0;background:#111;color:#fff;text-decoration:none;cursor:pointer}
.error{color:#b00020}hr{border:0;border-top:1px solid #eee;margin:1.5rem 0}`;

export function ProtectedPage({ signInUrl, password }: Props) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>Protected deployment</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <main>
          <h1>This deployment is protected</h1>
          {password && (
            <form method="post" action="/.well-known/minivercel/password" id="protection-password">
              <p>Enter the project's password to view it.</p>
              <input type="hidden" name="form" value={password.formToken} />
              <input type="hidden" name="next" value={password.next} />
              <label for="protection-password-input">Password</label>
              <input
                id="protection-password-input"
                type="password"
                name="password"
                autocomplete="current-password"
                required
                autofocus
              />
              {password.error && <p class="error">{password.error}</p>}
              <button type="submit">Continue</button>
            </form>
          )}
          {password && <hr />}
          <p>Members of the project sign in to view it.</p>
          <a class="button" id="protection-sign-in" href={signInUrl}>
            Sign in with minivercel
          </a>
        </main>
      </body>
    </html>
  );
}
