// Runs in Node before the workerd test pool starts: the provider simulators that tests reach
// on loopback. Their addresses go to the tests through `provide` (read with inject("simulators")).
import type { TestProject } from "vitest/node";
import { startSimulators } from "./simulators/index";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sims = await startSimulators();
  // workerd checks TLS peers against SSL_CERT_FILE; add the simulators' test CA so the SMTP
  // provider can do real STARTTLS/implicit TLS to the sink. Set before the pool spawns workerd.
  // The bundle keeps the previous SSL_CERT_FILE's certificates.
  const previous = process.env.SSL_CERT_FILE;
  if (sims.info.tlsTrustBundleFile) process.env.SSL_CERT_FILE = sims.info.tlsTrustBundleFile;
  project.provide("simulators", sims.info);
  return async () => {
    if (previous === undefined) delete process.env.SSL_CERT_FILE;
    else process.env.SSL_CERT_FILE = previous;
    await sims.close();
  };
}
