// The audit log of a team or of the personal scope: who did what, when, from which address (newest first).
/** @jsxImportSource preact */

import type { AuditEvent } from "../../src/store/audit-log.ts";
import { Time } from "../components/time.tsx";
import { type Chrome, Layout } from "../layout.tsx";

export function AuditPage(props: {
  chrome: Chrome;
  /** "Acme" or "Personal". */
  scopeName: string;
  entries: AuditEvent[];
  /** The next (older) page's address, or null. */
  olderHref: string | null;
}) {
  const { chrome, scopeName, entries, olderHref } = props;
  return (
    <Layout chrome={chrome} title={`${scopeName} · Audit log`} nav="teams">
      <div class="page-head">
        <h1>Audit log · {scopeName}</h1>
        <p class="muted">Every change, kept as it happened: entries are never edited or removed.</p>
      </div>
      {entries.length === 0 ? (
        <p class="empty">Nothing recorded yet.</p>
      ) : (
        // Six columns do not fit a phone: the table scrolls sideways within the page, not the page itself.
        <section class="table-scroll" aria-label="Audit log entries">
          <table class="table" id="audit-log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Target</th>
                <th scope="col">Detail</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time iso={e.createdAt} />
                  </td>
                  <td>{e.actorEmail ?? actorOf(e.detail)}</td>
                  <td class="mono">{e.action}</td>
                  <td>{e.target ?? ""}</td>
                  <td>{e.detail ?? ""}</td>
                  <td class="mono">{e.address ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {olderHref && (
        <p class="pager">
          <a class="button" href={olderHref}>
            Older entries
          </a>
        </p>
      )}
    </Layout>
  );
}

/** An entry without an account: a git webhook's (its detail starts "github webhook (…)"), else the platform's. */
const actorOf = (detail: string | null) =>
  /^(github|gitlab|gitea) webhook\b/.exec(detail ?? "")?.[0] ?? "platform";
