// Tenancy through the API's handler: another account gets 404 on a victim's resources and changes nothing.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Deps } from "../deps.ts";
import { apiClient, type Client, obj, testDeps, testUser } from "../testing.ts";
import { makeVictim, victimState } from "../testing-victim.ts";

let deps: Deps;
let bob: Client;

beforeAll(async () => {
  deps = await testDeps();
  bob = apiClient(deps, (await testUser(deps)).token);
});
afterAll(() => deps.close());

const errorCode = (body: unknown) => obj(obj(body).error).code;

describe("another account", () => {
  test("cannot promote a READY deployment of someone else's project: 404, production unchanged", async () => {
    const victim = await makeVictim(deps);
    const [older, production] = victim.ready;
    const project = `/api/projects/${victim.project.id}`;
    const res = await bob("POST", `/api/deployments/${older}/promote`);
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("not_found");
    expect(obj((await victim.api("GET", project)).body).productionDeploymentId).toBe(production);
    // The deployment itself can be promoted: by its owner.
    expect((await victim.api("POST", `/api/deployments/${older}/promote`)).status).toBe(200);
    expect(obj((await victim.api("GET", project)).body).productionDeploymentId).toBe(older);
  });

  test("cannot delete someone else's env var: 404, the variable and its value unchanged", async () => {
    const victim = await makeVictim(deps);
    const path = `/api/projects/${victim.project.id}/env/VICTIM_API_KEY`;
    const before = await victimState(deps, victim);
    const res = await bob("DELETE", path);
    expect(res.status).toBe(404);
    expect(errorCode(res.body)).toBe("not_found");
    expect(await victimState(deps, victim)).toEqual(before);
    expect(before.envValues.VICTIM_API_KEY).toBe(victim.env.VICTIM_API_KEY);
    // The owner can.
    expect((await victim.api("DELETE", path)).status).toBe(204);
    expect((await victimState(deps, victim)).envValues.VICTIM_API_KEY).toBeUndefined();
  });
});
