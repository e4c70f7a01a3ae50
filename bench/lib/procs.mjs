// Child processes the bench starts (simulators, bridge, proxy, smtp-sink), each in its own
// process group so it can be stopped with everything it started.
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

/**
 * The project root, with this Node and node_modules/.bin first on PATH: children (wrangler,
 * tsx) start with `#!/usr/bin/env node`, which must be this Node (≥ 22).
 */
export function benchRoot() {
  const root = path.resolve(import.meta.dirname, "..", "..");
  process.env.PATH = [path.dirname(process.execPath), path.join(root, "node_modules", ".bin"), process.env.PATH].join(path.delimiter);
  return root;
}

const started = [];

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Spawns and resolves once `ready(output)` returns a truthy value. */
export function start(name, cmd, args, { env, cwd, ready, timeoutMs = 60_000 } = {}) {
  const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
    const check = () => {
      const v = ready ? ready(out) : true;
      if (v) {
        clearTimeout(timer);
        resolve({ child, value: v, output: () => out });
      }
    };
    child.stdout.on("data", (d) => ((out += d), check()));
    child.stderr.on("data", (d) => ((out += d), check()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${out.slice(-2000)}`));
    });
    if (!ready) check();
  });
}

export function stop(child) {
  if (!child?.pid || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // gone
  }
}

export function stopAll() {
  for (const c of started) stop(c);
}

/** Resolves when something accepts TCP connections on the port. */
export async function waitForPort(port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), r(true)));
      s.once("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on ${port}`);
}

/** Runs a command to completion; resolves { code, out, ms }. */
export function runToEnd(cmd, args, { env, cwd, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: performance.now() - t0 });
    });
  });
}
