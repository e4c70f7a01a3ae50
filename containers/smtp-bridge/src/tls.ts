// The certificate and key for STARTTLS and implicit TLS: from files in production, or a
// self-signed pair generated with openssl into a temporary directory for local development.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  source: "files" | "self-signed";
}

export async function loadTlsMaterial(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
  // Fail at start, not at the first STARTTLS, if the pair does not fit together.
  tls.createSecureContext({ cert, key });
  return { cert, key, source: "files" };
}

export async function generateSelfSigned(hostname: string): Promise<TlsMaterial> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "smtp-bridge-tls-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    await promisify(execFile)(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", keyFile, "-out", certFile, "-days", "30",
        "-subj", `/CN=${hostname}`,
        "-addext", `subjectAltName=DNS:${hostname},DNS:localhost,IP:127.0.0.1,IP:::1`,
      ],
      { timeout: 20_000 },
    );
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return { cert, key, source: "self-signed" };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
