// Test support for automatic HTTPS: one HTTPS request over a real TLS connection with a chosen SNI name,
// verifying the server's certificate against a given root, and what certificate the server presented.

import { connect } from "node:tls";

export interface TlsAnswer {
  /** The handshake failed (no certificate for the name) or the certificate did not verify. */
  error: string | null;
  serial: string | null;
  altNames: string | null;
  status: number | null;
  body: string;
}

export function tlsGet(port: number, servername: string, root: string, path = "/"): Promise<TlsAnswer> {
  return new Promise((resolve) => {
    let raw = "";
    let serial: string | null = null;
    let altNames: string | null = null;
    const socket = connect({ host: "127.0.0.1", port, servername, ca: root, rejectUnauthorized: true });
    const done = (error: string | null) => {
      socket.destroy();
      const [head = "", ...rest] = raw.split("\r\n\r\n");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      resolve({
        error,
        serial,
        altNames,
        status: status ? Number(status) : null,
        body: rest.join("\r\n\r\n"),
      });
    };
    socket.setTimeout(60_000, () => done("timeout"));
    socket.on("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      serial = cert.serialNumber ?? null;
      altNames = cert.subjectaltname ?? null;
      socket.write(`GET ${path} HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      raw += chunk.toString("utf8");
    });
    // A refused handshake ends the connection without a secureConnect.
    socket.on("end", () => done(serial === null ? "handshake refused" : null));
    socket.on("error", (error) => done(error.message));
  });
}
