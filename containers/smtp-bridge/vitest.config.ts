import { defineConfig } from "vitest/config";

// Plain Node: the bridge is a Node service, tested with real sockets on loopback.
export default defineConfig({
  root: import.meta.dirname,
  test: {
    environment: "node",
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
