// What the CLI reads from the API, as TypeBox schemas: answers are checked, never cast (only the fields used).

import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { CliError } from "./http.ts";

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Project = Type.Object({
  id: Type.String(),
  name: Type.String(),
  subDomain: Type.String(),
  gitUrl: Nullable(Type.String()),
  productionUrl: Type.String(),
  productionDeploymentId: Nullable(Type.String()),
  previousProductionDeploymentId: Nullable(Type.String()),
});
export type Project = Static<typeof Project>;

export const Deployment = Type.Object({
  id: Type.String(),
  projectId: Type.String(),
  status: Type.String(),
  statusReason: Nullable(Type.String()),
  target: Type.String(),
  branch: Nullable(Type.String()),
  url: Type.String(),
  createdAt: Type.String(),
});
export type Deployment = Static<typeof Deployment>;

/** The app server settings `projects set` changes (and prints back). */
export const AppSettings = Type.Object({
  subDomain: Type.String(),
  startCommand: Nullable(Type.String()),
  idleTimeoutMinutes: Nullable(Type.Integer()),
  maxInstances: Nullable(Type.Integer()),
});

export const ProjectPage = Type.Object({ items: Type.Array(Project), nextCursor: Nullable(Type.String()) });
export const DeploymentPage = Type.Object({
  items: Type.Array(Deployment),
  nextCursor: Nullable(Type.String()),
});
export const Created = Type.Object({ deployment: Deployment, project: Project });
export const Missing = Type.Object({ missing: Type.Array(Type.String()) });
export const User = Type.Object({ email: Type.String() });
export const EnvList = Type.Object({
  items: Type.Array(
    Type.Object({ key: Type.String(), target: Type.Array(Type.String()), updatedAt: Type.String() }),
  ),
});
export const LogLine = Type.Object({ seq: Type.Number(), stream: Type.String(), text: Type.String() });
export const LogPage = Type.Object({ items: Type.Array(LogLine), nextAfter: Nullable(Type.Number()) });

/** Narrows an API answer; anything else means the URL is not (this version of) a minivercel server. */
export function expectShape<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  throw new CliError(
    `unexpected answer from the server (${what}): is this a minivercel server of this version?`,
    1,
  );
}
