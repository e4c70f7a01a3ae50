// Runs in Node before the workerd test pool starts: local servers that tests reach on loopback.
import type { TestProject } from "vitest/node";

export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  return async () => {};
}
