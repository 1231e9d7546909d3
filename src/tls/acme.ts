// Automatic HTTPS, step 2: order one certificate from the ACME CA (acme-client), answering its challenge
// through the store (HTTP-01: any proxy process may receive the CA's request) or a DNS provider (DNS-01).

import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import * as acme from "acme-client";
import type { HttpsConfig } from "../config/config.ts";
import type { Sealer } from "../deploy/env.ts";
import type { Certificates } from "../store/certs.ts";
import type { DnsProvider } from "./dns.ts";

export interface Issued {
  /** The chain as the CA sent it, leaf first. */
  certPem: string;
  keyPem: string;
  notAfter: string;
  serial: string;
}

export interface AcmeIssuer {
  /** Orders a certificate for one name (a host, or `*.<domain>` by DNS-01). Throws when the CA refuses. */
  order(name: string): Promise<Issued>;
}

/** How long an HTTP-01 answer stays in the store: a CA validates within minutes of our request. */
const CHALLENGE_TTL_MS = 10 * 60_000;

export function describeCertificate(certPem: string): { notAfter: string; serial: string } {
  const leaf = new X509Certificate(certPem);
  return { notAfter: new Date(leaf.validTo).toISOString(), serial: leaf.serialNumber };
}

export function createAcmeIssuer(deps: {
  https: HttpsConfig;
  certificates: Certificates;
  sealer: Sealer;
  dns: DnsProvider | null;
}): AcmeIssuer {
  const { https, certificates, sealer, dns } = deps;
  if (https.caFile !== null) {
    // acme-client talks through its own axios instance; with a private CA (Pebble, a company CA) it must
    // trust that CA for the directory's TLS. One ACME setting per process, so the instance-wide agent is right.
    acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(https.caFile, "utf8") });
  }
  let client: Promise<acme.Client> | null = null;

  /** The account key is shared through the store, so every process orders as the same ACME account. */
  async function openClient(): Promise<acme.Client> {
    let sealed = await certificates.accountKey(https.directoryUrl);
    if (sealed === null) {
      const fresh = (await acme.crypto.createPrivateEcdsaKey()).toString();
      sealed = await certificates.initAccountKey(https.directoryUrl, await sealer.seal(fresh));
    }
    return new acme.Client({
      directoryUrl: https.directoryUrl,
      accountKey: await sealer.open(sealed),
      // The CA usually decides in a second or two; acme-client's default first wait is 5 s.
      backoffMin: 1000,
      backoffMax: 10_000,
      backoffAttempts: 12,
    });
  }

  return {
    async order(name) {
      client ??= openClient().catch((error: unknown) => {
        client = null;
        throw error;
      });
      const wildcard = name.startsWith("*.");
      if (wildcard && dns === null)
        throw new Error(`a wildcard certificate for ${name} needs a DNS provider`);
      const key = await acme.crypto.createPrivateEcdsaKey();
      const [, csr] = await acme.crypto.createCsr({ altNames: [name] }, key);
      const certPem = await (await client).auto({
        csr,
        email: https.email,
        termsOfServiceAgreed: true,
        // Wildcards can only be proven in DNS; every single host is proven over HTTP on port 80.
        challengePriority: wildcard ? ["dns-01"] : ["http-01"],
        // acme-client's own pre-check resolves the name through this machine's DNS, which need not agree with
        // the CA's view (split DNS, propagation); the CA's validation is the one that counts.
        skipChallengeVerification: true,
        async challengeCreateFn(authz, challenge, keyAuthorization) {
          if (challenge.type === "http-01") {
            const expires = new Date(Date.now() + CHALLENGE_TTL_MS).toISOString();
            await certificates.putChallenge(challenge.token, keyAuthorization, expires);
          } else if (challenge.type === "dns-01" && dns) {
            await dns.present(`_acme-challenge.${authz.identifier.value}.`, keyAuthorization);
          } else {
            throw new Error(`cannot answer a ${challenge.type} challenge`);
          }
        },
        async challengeRemoveFn(authz, challenge, keyAuthorization) {
          if (challenge.type === "http-01") await certificates.removeChallenge(challenge.token);
          else if (challenge.type === "dns-01" && dns)
            await dns.cleanup(`_acme-challenge.${authz.identifier.value}.`, keyAuthorization);
        },
      });
      return { certPem, keyPem: key.toString(), ...describeCertificate(certPem) };
    },
  };
}
