// The workerd process's own accounting, read from /proc: CPU (utime + stime) and peak RSS.
import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim() || 100);

function stat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm may contain spaces; fields after ") " are space separated, state is field 3
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

/** Every workerd process descending from this Node process. */
export function workerdPids(root = process.pid) {
  const all = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const comm = readFileSync(`/proc/${name}/comm`, "utf8").trim();
      all.push({ pid: Number(name), comm, ppid: stat(name).ppid });
    } catch {
      // exited meanwhile
    }
  }
  const descendants = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!descendants.has(p.pid) && descendants.has(p.ppid)) (descendants.add(p.pid), (grew = true));
  }
  return all.filter((p) => descendants.has(p.pid) && p.comm.startsWith("workerd")).map((p) => p.pid);
}

/** CPU milliseconds (user + system) consumed so far by the given processes. */
export function cpuMs(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const s = stat(pid);
      ticks += s.utime + s.stime;
    } catch {
      // gone
    }
  }
  return ticks * TICK_MS;
}

/** Peak resident set (VmHWM) in MiB, summed over the processes. */
export function peakRssMiB(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kib += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

export const tickMs = TICK_MS;
