// The page shell: head with our own assets, top bar with navigation, and the CSRF header htmx sends.
/** @jsxImportSource preact */

import type { ComponentChildren } from "preact";

/** Where the embedded assets are served (their URLs carry a content hash for caching). */
export interface AssetUrls {
  css: string;
  js: string;
  htmx: string;
  /** The drag-and-drop deploy's scripts, in the order they run (only on pages that offer it). */
  dropJs: string[];
  icon: string;
  ico: string;
  appleTouchIcon: string;
}

/** What every page needs besides its own data: who is signed in, their CSRF token, asset URLs. */
export interface Chrome {
  user: { email: string } | null;
  csrf: string;
  assets: AssetUrls;
}

// 4xx responses carry re-rendered forms with inline errors, so htmx swaps them like 2xx.
const HTMX_CONFIG = JSON.stringify({
  responseHandling: [
    { code: "204", swap: false },
    { code: "[234]..", swap: true },
    { code: "5..", swap: true, error: true },
  ],
  allowEval: false,
  includeIndicatorStyles: false,
  historyCacheSize: 0,
});

export function Layout(props: {
  chrome: Chrome;
  /** What the page shows, most specific first ("my-site · Settings"); the tab reads "<title> · minivercel". */
  title: string;
  nav?: "projects" | "teams" | "account";
  /** The page offers drag-and-drop deploys (views/components/drop-zone.tsx). */
  drop?: boolean;
  children: ComponentChildren;
}) {
  const { chrome, title, nav, drop, children } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${title} · minivercel`}</title>
        <link rel="icon" href={chrome.assets.ico} sizes="48x48" />
        <link rel="icon" href={chrome.assets.icon} type="image/svg+xml" sizes="any" />
        <link rel="apple-touch-icon" href={chrome.assets.appleTouchIcon} />
        <link rel="stylesheet" href={chrome.assets.css} />
        <script src={chrome.assets.htmx} defer />
        <script src={chrome.assets.js} defer />
        {drop && chrome.assets.dropJs.map((src) => <script key={src} src={src} defer />)}
      </head>
      <body hx-headers={JSON.stringify({ "x-csrf-token": chrome.csrf })}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href="/">
            <span class="brand-mark" aria-hidden="true">
              ▲
            </span>
            minivercel
          </a>
          {chrome.user && (
            <nav class="topnav" aria-label="Main">
              <a href="/" aria-current={nav === "projects" ? "page" : undefined}>
                Projects
              </a>
              <a href="/teams" aria-current={nav === "teams" ? "page" : undefined}>
                Teams
              </a>
              <a href="/account" aria-current={nav === "account" ? "page" : undefined}>
                Account
              </a>
              <form method="post" action="/logout" class="inline-form">
                <input type="hidden" name="_csrf" value={chrome.csrf} />
                <button type="submit" class="link-button" title={`Signed in as ${chrome.user.email}`}>
                  Sign out
                </button>
              </form>
            </nav>
          )}
        </header>
        <main id="main" tabindex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}

/** The hidden CSRF field every form carries (htmx requests also send it as a header). */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}
