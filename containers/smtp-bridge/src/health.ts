// A small HTTP server for liveness checks: GET /healthz answers 200 while the SMTP listeners
// are up and 503 once the bridge is draining, so an orchestrator stops routing to it.
import http from "node:http";

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export type HealthStatus = { ok: boolean; draining: boolean } & Record<string, number | boolean>;

export function startHealthServer(host: string, port: number, status: () => HealthStatus): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if ((req.method === "GET" || req.method === "HEAD") && path === "/healthz") {
      const current = status();
      const body = JSON.stringify({ status: current.ok ? "ok" : current.draining ? "draining" : "down", ...current });
      res.writeHead(current.ok ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "not_found", message: "not found" } }));
  });
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
