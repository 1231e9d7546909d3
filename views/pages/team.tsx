// A team: its members and their roles, open invitations (owners), leaving, and deleting the team.
/** @jsxImportSource preact */

import type { Invitation, TeamMember } from "../../src/store/teams.ts";
import { FormError, type FormErrors } from "../components/field.tsx";
import { Time } from "../components/time.tsx";
import { type Chrome, Csrf, Layout } from "../layout.tsx";

export interface TeamPageProps {
  chrome: Chrome;
  team: { slug: string; name: string };
  /** The signed-in user's id and role in the team. */
  me: { userId: string; role: string };
  members: TeamMember[];
  /** Open invitations: only owners see them (null for others). */
  invitations: Invitation[] | null;
  /** An invitation link just made: shown this once. */
  createdLink: string | null;
  errors: FormErrors;
}

const ROLES = ["owner", "member", "viewer"];

export function TeamPage(props: TeamPageProps) {
  const { chrome, team, me, members, invitations, createdLink, errors } = props;
  const base = `/teams/${encodeURIComponent(team.slug)}`;
  const owner = me.role === "owner";
  return (
    <Layout chrome={chrome} title={`${team.name} · Team`} nav="teams">
      <div class="page-head">
        <h1>{team.name}</h1>
        <p class="muted">
          <span class="mono">{team.slug}</span> · your role: <strong>{me.role}</strong> ·{" "}
          <a href={`/?team=${encodeURIComponent(team.slug)}`}>Projects</a>
          {owner && (
            <>
              {" "}
              · <a href={`${base}/audit`}>Audit log</a>
            </>
          )}
        </p>
      </div>
      <FormError errors={errors} />
      <section class="card" aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <ul class="list" id="member-list">
          {members.map((m) => (
            <li key={m.userId}>
              <strong>{m.email}</strong> <span class="badge">{m.role}</span>{" "}
              {owner && m.userId !== me.userId && (
                <>
                  <form
                    method="post"
                    action={`${base}/members/${encodeURIComponent(m.userId)}/role`}
                    class="inline-form"
                  >
                    <Csrf token={chrome.csrf} />
                    <label class="visually-hidden" for={`role-${m.userId}`}>
                      Role of {m.email}
                    </label>
                    <select name="role" id={`role-${m.userId}`}>
                      {ROLES.map((r) => (
                        <option key={r} value={r} selected={r === m.role}>
                          {r}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="button small">
                      Change role
                    </button>
                  </form>
                  <form
                    method="post"
                    action={`${base}/members/${encodeURIComponent(m.userId)}/remove`}
                    class="inline-form"
                  >
                    <Csrf token={chrome.csrf} />
                    <button type="submit" class="button small danger">
                      Remove
                    </button>
                  </form>
                </>
              )}
            </li>
          ))}
        </ul>
        <form method="post" action={`${base}/leave`} class="inline-form">
          <Csrf token={chrome.csrf} />
          <button type="submit" class="button danger">
            Leave team
          </button>
        </form>
      </section>
      {invitations !== null && (
        <section class="card" aria-labelledby="invite-title" id="invitations">
          <h2 id="invite-title">Invitations</h2>
          {createdLink && (
            <p class="notice success" id="invitation-link">
              Send this link; it works once and is shown only now: <code class="mono">{createdLink}</code>
            </p>
          )}
          <form method="post" action={`${base}/invitations`} class="inline-form">
            <Csrf token={chrome.csrf} />
            <label for="invite-role">Role</label>{" "}
            <select name="role" id="invite-role">
              {ROLES.map((r) => (
                <option key={r} value={r} selected={r === "member"}>
                  {r}
                </option>
              ))}
            </select>{" "}
            <button type="submit" class="button primary">
              Create invitation link
            </button>
          </form>
          {invitations.length === 0 ? (
            <p class="empty">No open invitations.</p>
          ) : (
            <ul class="list" id="invitation-list">
              {invitations.map((i) => (
                <li key={i.id}>
                  <span class="badge">{i.role}</span> expires <Time iso={i.expiresAt} />{" "}
                  <form
                    method="post"
                    action={`${base}/invitations/${encodeURIComponent(i.id)}/revoke`}
                    class="inline-form"
                  >
                    <Csrf token={chrome.csrf} />
                    <button type="submit" class="button small danger">
                      Revoke
                    </button>
                  </form>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {owner && (
        <section class="card danger-zone" aria-labelledby="delete-title">
          <h2 id="delete-title">Delete team</h2>
          <p class="muted">Only a team without projects can be deleted: transfer or delete them first.</p>
          <form method="post" action={`${base}/delete`} class="inline-form">
            <Csrf token={chrome.csrf} />
            <button type="submit" class="button danger">
              Delete {team.name}
            </button>
          </form>
        </section>
      )}
    </Layout>
  );
}
