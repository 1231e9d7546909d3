// Deployment protection's signed values: only ours pass, unchanged, of the kind asked for, before they expire.

import { describe, expect, test } from "bun:test";
import { createAccessTokens } from "./access-tokens.ts";

const key = () => crypto.getRandomValues(new Uint8Array(32));
const soon = () => Math.floor(Date.now() / 1000) + 60;

describe("access tokens", () => {
  test("a signed value verifies as its own type only", () => {
    const tokens = createAccessTokens(key());
    const form = tokens.sign({ type: "form", host: "a.localhost", nonce: "n", exp: soon() });
    expect(tokens.verify(form, "form")).toMatchObject({ host: "a.localhost" });
    expect(tokens.verify(form, "access")).toBeNull();
    expect(tokens.verify(form, "handoff")).toBeNull();
  });

  test("tampered, foreign, expired or malformed values are refused", () => {
    const tokens = createAccessTokens(key());
    const value = tokens.sign({
      type: "access",
      host: "a.localhost",
      project: "p",
      grant: { kind: "member", userId: "u" },
      exp: soon(),
    });
    const [payload = "", mac = ""] = value.split(".");
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), host: "b.localhost" }),
    ).toString("base64url");
    expect(tokens.verify(`${forged}.${mac}`, "access")).toBeNull();
    expect(createAccessTokens(key()).verify(value, "access")).toBeNull();
    expect(tokens.verify(value, "access", (soon() + 1) * 1000)).toBeNull();
    for (const junk of ["", ".", "abc", `${payload}.`, `.${mac}`, "x".repeat(5000)])
      expect(tokens.verify(junk, "access")).toBeNull();
  });

  test("a password's fingerprint changes with the password and the key", () => {
    const k = key();
    const tokens = createAccessTokens(k);
    expect(tokens.fingerprint("$argon2id$a")).toBe(createAccessTokens(k).fingerprint("$argon2id$a"));
    expect(tokens.fingerprint("$argon2id$a")).not.toBe(tokens.fingerprint("$argon2id$b"));
    expect(tokens.fingerprint("$argon2id$a")).not.toBe(createAccessTokens(key()).fingerprint("$argon2id$a"));
  });
});
