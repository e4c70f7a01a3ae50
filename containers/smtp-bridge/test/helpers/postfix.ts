// A real Postfix as the bridge's client, when the machine has one (`apt-get install postfix
// libsasl2-modules`, as root; CI installs both). Postfix relays everything to the bridge with
// STARTTLS + AUTH, as a clinic's Postfix would be set up, and splits a message with many
// recipients into transactions of smtp_destination_recipient_limit (50 by default).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const POSTFIX = "/usr/sbin/postfix";
const LOG = "/var/log/relay-test-postfix.log";

/** Postfix can be configured and started here: installed, with SASL client modules, as root. */
export const postfixUsable = (): boolean =>
  existsSync(POSTFIX) && existsSync("/usr/lib/x86_64-linux-gnu/sasl2/libplain.so") && process.getuid?.() === 0;

const postconf = (...settings: string[]) => execFileSync("/usr/sbin/postconf", ["-e", ...settings]);

export function startPostfix(bridgePort: number, user: string, password: string): void {
  postconf(
    "inet_interfaces = loopback-only",
    "mydestination =",
    `relayhost = [127.0.0.1]:${bridgePort}`,
    "smtp_sasl_auth_enable = yes",
    `smtp_sasl_password_maps = static:${user}:${password}`,
    "smtp_sasl_security_options = noanonymous",
    "smtp_tls_security_level = encrypt",
    "smtp_destination_recipient_limit = 50",
    `maillog_file = ${LOG}`,
  );
  writeFileSync(LOG, "");
  try {
    execFileSync(POSTFIX, ["stop"], { stdio: "ignore" });
  } catch {
    // it was not running
  }
  // Postfix's queue outlives a run: mail an earlier run left deferred (a failed or killed test)
  // would be relayed to this run's bridge too, counted as sent here and charged to this run's
  // sending limits.
  // (postsuper -d cannot open the test's maillog_file as a non-daemon, so the queue directories
  // are emptied while Postfix is stopped.)
  for (const dir of ["maildrop", "incoming", "active", "deferred", "defer", "bounce", "hold", "corrupt"]) {
    const path = `/var/spool/postfix/${dir}`;
    if (existsSync(path)) for (const entry of readdirSync(path)) rmSync(`${path}/${entry}`, { recursive: true, force: true });
  }
  execFileSync(POSTFIX, ["start"], { stdio: "ignore" });
}

export function stopPostfix(): void {
  try {
    execFileSync(POSTFIX, ["stop"], { stdio: "ignore" });
  } catch {
    // already stopped
  }
}

/** Hands a message to Postfix as a local program would (sendmail), with explicit recipients. */
export function sendmail(from: string, recipients: string[], raw: string): void {
  execFileSync("/usr/sbin/sendmail", ["-i", "-f", from, "--", ...recipients], { input: raw });
}

/** How many recipients Postfix's log says it delivered (status=sent) so far. */
export function postfixSentCount(): number {
  return (readFileSync(LOG, "utf8").match(/ status=sent /g) ?? []).length;
}

export const postfixLog = (): string => readFileSync(LOG, "utf8");
