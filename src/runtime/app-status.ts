// A deployment's app server as the API and the dashboard show it, wherever its instances run: in this process's
// own pool (all-in-one), or on the functions nodes (PROXY_FUNCTIONS=remote: src/proxy/apps-nodes.ts asks them).

import type { AppInstanceView, AppPool, AppView } from "./apps.ts";

/** One instance, with where it runs. */
export interface AppInstanceStatus extends Omit<AppInstanceView, "deploymentId"> {
  /** The functions node it runs on; null: in this process. */
  node: string | null;
}

/** A functions node asked about the server that did not answer in time: its instances are not in the list. */
export interface UnansweredNode {
  id: string;
  problem: string;
}

export interface AppStatus {
  /** Whether this process can see where the instances run; false: everything below is empty. */
  visible: boolean;
  instances: AppInstanceStatus[];
  /** Summed over the nodes. */
  restarts: number;
  /** The most of any node. */
  crashes: number;
  crashLoop: boolean;
  lastExit: string | null;
  unanswered: UnansweredNode[];
}

/** The app servers this process can see: their status, and a restart (stops every instance of the deployment). */
export interface AppServers {
  status(deploymentId: string): Promise<AppStatus>;
  /** Stops the deployment's instances everywhere they run; answers the status after. */
  restart(deploymentId: string): Promise<AppStatus>;
}

/** One place's view of the server (a node's answer, or this process's pool). */
export type ServerView = Omit<AppView, "deploymentId" | "instances"> & {
  instances: Omit<AppInstanceView, "deploymentId">[];
};

const nothing = { instances: [], restarts: 0, crashes: 0, crashLoop: false, lastExit: null, unanswered: [] };

/** Where the instances cannot be seen from (an api process whose proxies run them): nothing, and no restart. */
export const unseenAppServers: AppServers = {
  status: async () => ({ visible: false, ...nothing }),
  restart: async () => ({ visible: false, ...nothing }),
};

/** Views of one server on several nodes (or one process) as one status. */
export function mergeViews(
  views: { node: string | null; view: ServerView }[],
  unanswered: UnansweredNode[],
): AppStatus {
  return {
    visible: true,
    instances: views.flatMap(({ node, view }) =>
      view.instances.map(({ id, state, inFlight, memoryBytes, startedAt, lastRequestAt }) => ({
        id,
        node,
        state,
        inFlight,
        memoryBytes,
        startedAt,
        lastRequestAt,
      })),
    ),
    restarts: views.reduce((sum, { view }) => sum + view.restarts, 0),
    crashes: Math.max(0, ...views.map(({ view }) => view.crashes)),
    crashLoop: views.some(({ view }) => view.crashLoop),
    // The node failing most says the most about why.
    lastExit:
      [...views].sort((a, b) => b.view.crashes - a.view.crashes).find(({ view }) => view.lastExit)?.view
        .lastExit ?? null,
    unanswered,
  };
}

/** This process's own pool (null until its proxy ran an app server). */
export function localAppServers(pool: () => AppPool | null): AppServers {
  const status = (deploymentId: string) => {
    const view = pool()?.view(deploymentId)[0];
    return mergeViews(view ? [{ node: null, view }] : [], []);
  };
  return {
    status: async (deploymentId) => status(deploymentId),
    async restart(deploymentId) {
      await pool()?.restart(deploymentId);
      return status(deploymentId);
    },
  };
}
