// smtp-source cannot authenticate, and the bridge never relays without AUTH. This proxy sits
// between them: for each client it opens an upstream session (greeting, EHLO, AUTH PLAIN with
// the API key), answers the client's greeting and EHLO itself, then pipes bytes both ways.
// Usage: node smtp-auth-proxy.mjs <listen port> <upstream port> <api key>; prints "ready".
import net from "node:net";

const [listenPort, upstreamPort, apiKey] = process.argv.slice(2);
const auth = Buffer.from(`\0apikey\0${apiKey}`).toString("base64");

function replies(socket) {
  let buf = "";
  let lines = [];
  const waiters = [];
  const queued = [];
  const onData = (d) => {
    buf += d.toString("latin1");
    let at;
    while ((at = buf.indexOf("\r\n")) >= 0) {
      const line = buf.slice(0, at);
      buf = buf.slice(at + 2);
      lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = lines.join("\r\n") + "\r\n";
        lines = [];
        const w = waiters.shift();
        if (w) w(reply);
        else queued.push(reply);
      }
    }
  };
  socket.on("data", onData);
  return {
    next: () => (queued.length ? Promise.resolve(queued.shift()) : new Promise((r) => waiters.push(r))),
    detach: () => socket.off("data", onData),
  };
}

const server = net.createServer((client) => {
  client.pause();
  const up = net.connect(Number(upstreamPort), "127.0.0.1");
  const fail = () => {
    client.destroy();
    up.destroy();
  };
  client.on("error", fail);
  up.on("error", fail);
  up.once("connect", async () => {
    const r = replies(up);
    const greeting = await r.next();
    up.write("EHLO bench-proxy\r\n");
    const ehlo = await r.next();
    up.write(`AUTH PLAIN ${auth}\r\n`);
    const authed = await r.next();
    r.detach();
    if (!authed.startsWith("235")) {
      client.end(`421 proxy: upstream AUTH failed: ${authed.trim()}\r\n`);
      up.destroy();
      return;
    }
    client.write(greeting);
    // The client's EHLO/HELO is answered here; everything after goes straight through.
    let pending = "";
    const onClient = (d) => {
      pending += d.toString("latin1");
      const at = pending.indexOf("\r\n");
      if (at < 0) return;
      const line = pending.slice(0, at);
      const rest = pending.slice(at + 2);
      client.off("data", onClient);
      if (/^(EHLO|HELO) /i.test(line)) client.write(/^HELO/i.test(line) ? "250 bench-proxy\r\n" : ehlo);
      else up.write(line + "\r\n");
      if (rest) up.write(rest, "latin1");
      client.pipe(up);
      up.pipe(client);
    };
    client.on("data", onClient);
    client.resume();
  });
});
server.listen(Number(listenPort), "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => process.exit(0));
