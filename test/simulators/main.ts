// CLI: `npx tsx test/simulators/main.ts [--host 127.0.0.1] [--http-port 0] [--smtp-port 0]
// [--smtp-tls-port 0] [--no-tls] [--seed N] [--require-auth]`. Prints the SimulatorInfo as one
// JSON line on stdout, then serves until SIGINT/SIGTERM. Control it over HTTP at
// {httpUrl}/__sim/ (POST /faults, GET /received?kind=&scope=, GET /counts?scope=, POST /reset).
import { startSimulators, type SimulatorOptions } from "./index";

function parseArgs(argv: string[]): SimulatorOptions {
  const opts: SimulatorOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--host") opts.host = next();
    else if (a === "--http-port") opts.httpPort = Number(next());
    else if (a === "--smtp-port") opts.smtpPort = Number(next());
    else if (a === "--smtp-tls-port") opts.smtpTlsPort = Number(next());
    else if (a === "--no-tls") opts.tls = false;
    else if (a === "--seed") opts.seed = Number(next());
    else if (a === "--require-auth") opts.smtpRequireAuth = true;
    else if (a === "--mailgun-api-key") opts.mailgunApiKey = next();
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const sims = await startSimulators(parseArgs(process.argv.slice(2)));
process.stdout.write(JSON.stringify(sims.info) + "\n");
const stop = () => {
  void sims.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
