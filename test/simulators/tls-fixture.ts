// A throwaway certificate authority and a localhost certificate it signed, made with the
// openssl CLI at start-up so no private key is ever committed. workerd verifies TLS against
// the trust store named by SSL_CERT_FILE, so tests point that at a bundle holding this CA.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TlsFixture {
  dir: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The system CA bundle plus this CA: a drop-in value for SSL_CERT_FILE. */
  trustBundleFile: string;
}

const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];

export function createTlsFixture(): TlsFixture | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relay-sim-tls-"));
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Relay Simulator Test CA"]);
    run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
    fs.writeFileSync(
      path.join(dir, "leaf.ext"),
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    );
    run(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"]);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const caPem = fs.readFileSync(path.join(dir, "ca.pem"), "utf8");
  // Keep whatever the environment already trusts (SSL_CERT_FILE is often set) and add our CA.
  const system = [process.env.SSL_CERT_FILE, ...SYSTEM_BUNDLES].find((f): f is string => !!f && fs.existsSync(f));
  const trustBundleFile = path.join(dir, "trust-bundle.pem");
  fs.writeFileSync(trustBundleFile, (system ? fs.readFileSync(system, "utf8") + "\n" : "") + caPem);
  fs.rmSync(path.join(dir, "ca.key"));
  return {
    dir,
    caPem,
    certPem: fs.readFileSync(path.join(dir, "leaf.pem"), "utf8"),
    keyPem: fs.readFileSync(path.join(dir, "leaf.key"), "utf8"),
    trustBundleFile,
  };
}
