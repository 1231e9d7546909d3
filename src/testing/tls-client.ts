// Test support for automatic HTTPS: one HTTP/1.1 request over a real TLS connection with a chosen SNI name,
// verifying the server's certificate against a given root, and what certificate the server presented.

import { connect } from "node:tls";

export interface TlsAnswer {
  /** The handshake failed (no certificate for the name) or the certificate did not verify. */
  error: string | null;
  serial: string | null;
  altNames: string | null;
  status: number | null;
  /** Response header lines as [lower-case name, value], in order (Set-Cookie may repeat). */
  headers: [string, string][];
  /** The body, de-chunked. */
  body: string;
}

export interface TlsRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** A chunked body's data (the server may stream its answer). */
function dechunk(raw: string): string {
  let out = "";
  let rest = raw;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

export function tlsRequest(
  port: number,
  servername: string,
  root: string,
  request: TlsRequest = {},
): Promise<TlsAnswer> {
  const { method = "GET", path = "/", headers = {}, body } = request;
  return new Promise((resolve) => {
    // Bytes, not text: chunk sizes count bytes.
    const chunks: Buffer[] = [];
    let serial: string | null = null;
    let altNames: string | null = null;
    const socket = connect({ host: "127.0.0.1", port, servername, ca: root, rejectUnauthorized: true });
    const done = (error: string | null) => {
      socket.destroy();
      const raw = Buffer.concat(chunks).toString("latin1");
      const split = raw.indexOf("\r\n\r\n");
      const head = split < 0 ? raw : raw.slice(0, split);
      const [statusLine = "", ...lines] = head.split("\r\n");
      const fields = lines.map((line): [string, string] => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      });
      const payload = split < 0 ? "" : raw.slice(split + 4);
      const chunked = fields.some(([k, v]) => k === "transfer-encoding" && v.includes("chunked"));
      const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
      resolve({
        error,
        serial,
        altNames,
        status: status ? Number(status) : null,
        headers: fields,
        body: Buffer.from(chunked ? dechunk(payload) : payload, "latin1").toString("utf8"),
      });
    };
    socket.setTimeout(60_000, () => done("timeout"));
    socket.on("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      serial = cert.serialNumber ?? null;
      altNames = cert.subjectaltname ?? null;
      const lines = [`${method} ${path} HTTP/1.1`, `host: ${servername}`, "connection: close"];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      const bytes = body === undefined ? null : Buffer.from(body, "utf8");
      if (bytes) lines.push(`content-length: ${bytes.length}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (bytes) socket.write(bytes);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
    });
    // A refused handshake ends the connection without a secureConnect.
    socket.on("end", () => done(serial === null ? "handshake refused" : null));
    socket.on("error", (error) => done(error.message));
  });
}

export function tlsGet(port: number, servername: string, root: string, path = "/"): Promise<TlsAnswer> {
  return tlsRequest(port, servername, root, { path });
}
