// The reason a bounce names (core/bounce/reasons.ts), read from what the failure says: the remote
// server's reply text first (it is the most specific witness), then the SMTP command it answered,
// then the status code, then whether the report is only a delay.
//
// The phrases are the ones MTAs and the large mailbox providers write in their replies; the order
// below settles the replies that match more than one (a 5.1.1 "has sent to too many recipients"
// is a rate limit, not an unknown user; "mailbox is full: retry timeout exceeded" is a full
// mailbox, not an expiry).
import { enhancedStatus } from "./fields";
import type { Reason } from "./reasons";

export type SmtpCommand = "CONN" | "HELO" | "MAIL" | "RCPT" | "DATA";

/** The SMTP command a failure answered, when the report says (Postfix, Exim, Sendmail, qmail, ...). */
export function smtpCommand(text: string): SmtpCommand | null {
  const t = text.replace(/\s+/g, " ");
  const named = (word: string): SmtpCommand | null => {
    const w = word.toUpperCase();
    if (w.startsWith("RCPT")) return "RCPT";
    if (w.startsWith("MAIL")) return "MAIL";
    if (w.includes("DATA") || w === "TEXT" || w === "BDAT") return "DATA";
    if (w === "HELO" || w === "EHLO" || w === "STARTTLS" || w === "AUTH") return "HELO";
    if (w.includes("CONN") || w.includes("GREETING") || w.includes("BANNER")) return "CONN";
    return null;
  };
  const patterns: RegExp[] = [
    /in reply to (RCPT TO|MAIL FROM|end of DATA|DATA|HELO|EHLO|STARTTLS|AUTH|BDAT)\b/i, // Postfix
    /after (RCPT TO|MAIL FROM|end of data|initial connection|EHLO|HELO|DATA|RCPT|MAIL|STARTTLS|AUTH)\b/i, // Exim
    /for (TEXT|DATA|RCPT|MAIL|RCPT TO|MAIL FROM) command/i,
    /\[(RCPT_TO|MAIL_FROM|DATA|CONNECT)\]/i,
    /SMTP command:? ?(DATA|RCPT|MAIL|HELO|EHLO|CONNECT)\b/i,
    /most progress was (RCPT TO|MAIL FROM|DATA) response/i,
    /\((RCPT|MAIL|DATA)\)/,
  ];
  for (const re of patterns) {
    const m = re.exec(t);
    if (m) return named(m[1]!);
  }
  if (/does not like recipient|RCPT TO response/i.test(t)) return "RCPT";
  if (/sender was rejected/i.test(t)) return "MAIL";
  if (/failed after I sent the message|end of data|after sending (the )?message/i.test(t)) return "DATA";
  if (/my name was rejected/i.test(t)) return "HELO";
  if (/refused to talk to me|during (greeting|initial connection)|upon connect|banner/i.test(t)) return "CONN";
  // A transcript: the last command quoted before the first failure reply (`>>> RCPT To:<...>`
  // `<<< 550 ...`); the `>>> DATA` / `503 Need RCPT` that follows a refused RCPT is not it.
  const failure = /(?:<<<|Received >>>|\bOut:) ?[45]\d\d\b/i.exec(t);
  const upTo = failure ? t.slice(0, failure.index) : t;
  const quoted = [...upTo.matchAll(/(?:>>>|<<<|\bIn:|\bSent:?) ?(RCPT|MAIL|DATA|EHLO|HELO)\b/gi)];
  if (quoted.length > 0) return named(quoted.at(-1)![1]!);
  return null;
}

interface Rule {
  reason: Reason;
  re: RegExp;
}

// In order: the first rule that matches names the reason.
const RULES: Rule[] = [
  // The domain takes no mail at all (RFC 7505 null MX).
  { reason: "notaccept", re: /null mx|no smtp service|does not accept mail|doesn't receive (e-?)?mail|does not receive (e-?)?mail|no mx record|accepts no mail|not accepting (any )?mail/ },
  // The recipient host's local delivery program.
  { reason: "mailererror", re: /procmail|pipe to \||\bx-unix\b|mailer (program )?error|local delivery (program )?failed|command (died|failed) with|exit (code|status) \d|operating system error|lock failure on/ },
  { reason: "mesgtoobig", re: /message size exceeds fixed|exceeds fixed maximum message size|recipsizelimit|message (is )?too (big|large)|too (big|large) for (this|the) (recipient|system|server)|message size (is )?(too large|exceeds (the )?(?!fixed))|exceeds (the )?(maximum|max|allowed) (inbound )?(message )?size|exceeded maximum (inbound )?message size|message length exceeds|size limit exceeded/ },
  { reason: "mailboxfull", re: /mailbox (is |was )?(full|over)|mailbox.{0,20}\bfull\b|mail ?box size limit|over (the )?quota|over ?quota|quota (has been |is |was )?exceeded|exceeded (the |their |its )?(storage|quota|local limit)|storage (quota|space) (exceeded|full)|out of storage|inbox is full|mail ?folder is full|not enough (disk |storage )?space|disk quota|insufficient (storage|space) (for|in) (the )?(user|mailbox)|too many messages in (the|this) mailbox|mailbox exceeds|user has exceeded|quota full/ },
  { reason: "suspend", re: /account (is |has been )?(disabled|suspended|locked|deactivated|frozen|closed|expired)|mailbox (is |has been )?(disabled|frozen|suspended|locked|deactivated|closed)|temporar(il)?y locked|recipient account is blocked|compte du destinataire est bloqu|disabled (recipient|user|mailbox|account)|(user|recipient)\(?s?\)? account is disabled|is disabled\b|account has been (suspended|disabled)|suspended (account|user|mailbox)|blocked account/ },
  { reason: "hasmoved", re: /no longer (on (this )?server|at this address|with us|available here|valid)|has moved|address has changed|mailbox has been moved|recipient has moved/ },
  { reason: "securityerror", re: /(relay|send|submit)\w* .{0,60}without authentication|turn on smtp authentication|smtp authentication (is )?required/ },
  { reason: "norelaying", re: /relay(ing)? (access )?(denied|not permitted|not allowed|prohibited|refused)|not permitted to relay|unable to relay|we do not relay|relay not permitted|no relaying|relaying mail to .* is not allowed|not a local (user|domain)|open relay not allowed/ },
  // qmail says which stage refused: the envelope sender, whatever the reply adds.
  { reason: "rejected", re: /sender was rejected|delivery not authori[sz]ed/ },
  // Office 365's directory-based edge blocking: the address is not in the tenant's directory.
  { reason: "userunknown", re: /recipient address rejected: access denied/ },
  // An unknown user with no address in the reply (`550 : User unknown`): Japanese carriers
  // refusing a sender by the recipient's own filter settings.
  { reason: "filtered", re: /\b\d{3} ?: ?user unknown/ },
  // A hedge that still names the domain first.
  { reason: "hostunknown", re: /the account or domain may not exist/ },
  // Rate limits, unless the limit is the sending IP's reputation (that is a block).
  { reason: "blocked", re: /\breputation\b|user complaints|unexpected volume|greylist|graylist|traffic not accepted from this ip|ip (you're using|address) .{0,40}not authori[sz]ed to send|permanently deferred|\bcxbl\b|unusual rate of unsolicited/ },
  { reason: "toomanyconn", re: /too many (connections|concurrent|simultaneous|sessions|recipients|messages|mails|errors)|connection rate|rate limit|rate that prevents|receiving mail at a rate|frequency limited|sent to too many|too fast|throttl|exceeded the (rate|number of connections)|max(imum)? (number of )?(connections|recipients)|concurrency/ },
  { reason: "virusdetected", re: /\bvirus|malware|infected|\bworm\b|trojan/ },
  { reason: "blocked", re: /protect our users from spam|fails? to pass (spf|authentication|dkim)|spf (check |validation |verification )?fail|bad spf|\bspf\b.{0,40}hard ?fail|dmarc check failed/ },
  { reason: "spamdetected", re: /ofr_506|unacceptable content|not rfc ?5322 compliant|\bspam\b|\bube\b|unsolicited|junk (e-?)?mail|content (was )?rejected|message content rejected|scored as|bulk mail|classified as (spam|junk)|looks like spam|spam classification/ },
  { reason: "policyviolation", re: /dmarc policy|policy reasons|policy violation|violation of (our|local) policy|local policy|policy (rejection|restrictions)|multiple addresses in from|header error|protocol violation|potential security issue|host network not allowed|not allowed by (local )?policy|content policy|illegal attachment|attachment (type )?(is )?not allowed|prohibited attachment|rejected by policy|policy (violation|rule)/ },
  // A blocklist names the sending host even when the reply says "sender rejected".
  { reason: "blocked", re: /\b[a-z]*rbl\b|dnsbl|spamhaus|spamcop|blocklist|black ?listed (ip|by|host)|ip (address )?(is )?black ?listed/ },
  // The envelope sender or its domain.
  { reason: "rejected", re: /sender (address |domain |e-?mail )?(is )?(rejected|refused|denied|invalid|not allowed|unknown|verify failed|blocked|not verified)|sender was rejected|domain of sender address|invalid sender|bad sender|unknown sender|from: domain is invalid|provide a valid from|valid sender domain|address is not verified|identities failed the check|not a registered gateway user|address that has been blacklisted|sender .*blacklisted|mail from .* rejected|envelope sender|return path|sender verification|sender address rejected|sender not (allowed|authorized)/ },
  { reason: "blocked", re: /\bblocked\b|black ?list|blacklisted|block ?list|\b(dns)?rbl\b|rbl\b|dnsbl|spamhaus|spamcop|\bbanned\b|ptr record|reverse dns|reverse (lookup|dns)|no (valid )?rdns|no reverse|client host rejected|not allowed to send from|mismatches client ip|refused to talk|connection refused|service refus|your (ip|host|server) (address )?(is|has been|was)|dial-?up|dynamic ip|residential|use the smtp server of your isp|open relay|unverifi(able|yable)|sending ips?\b|access denied.*initial connection|not accept (mail|messages) from (servers|hosts)|(ip|host|address) (is )?listed (at|in|on)|listed (at|in|on) (an? )?(rbl|dnsbl|blocklist|blacklist)|purported responsible address/ },
  { reason: "securityerror", re: /unauthenticated|authentication (required|is required|failed|failure)|smtp authentication|must (be )?authenticat|(not|un)authori[sz]ed (sender|to send|user)|authorization (required|failed)|(start)?tls (is )?required|requires? (a )?secure connection|encryption required|must issue a starttls/ },
  { reason: "notaccept", re: /(recipient|destination) (server|host|domain) (does not|doesn't) accept/ },
  // Google's "DNS Error: ... NXDOMAIN": the lookup failed, whatever the domain.
  { reason: "networkerror", re: /dns error/ },
  { reason: "hostunknown", re: /host unknown|unknown host|(host|domain)( name)? (does not exist|doesn't exist|not found|unknown|is unknown)|no such (domain|host)|couldn't find any host|could not find (any host|a mail exchanger)|couldn't find a mail exchanger|illegal host|domain is not reachable|unrout(e)?able (mail )?domain|account or domain may not exist|domain (name )?(lookup|resolution) failed|hostname (could not be|cannot be) resolved|\b[a-z0-9-]+(\.[a-z0-9-]+)+ does not exist\b/ },
  { reason: "networkerror", re: /dns error|name service error|malformed|name server|lookup failure|hop count|routing loop|loops? back|too many hops|network (error|unreachable|is unreachable)|no route to host|wasn't able to establish an smtp connection|unable to establish an smtp connection|connection (reset|dropped|closed)|broken pipe|lost connection/ },
  { reason: "userunknown", re: /user unknown|unknown user|no such (user|mailbox|recipient|address|account|local user|person|e-?mail)|(user|mailbox|address|recipient|account|e-?mail address) (does not|doesn't|did not) exist|user not (found|exist|listed)|recipient not found|unknown recipient|recipient (address )?(unknown|invalid|not valid)|invalid recipient|invalid (user|mailbox|address|e-?mail address)|address (couldn't|could not|can't|cannot) be found|address not found|no mailbox here|mailbox not found|mailbox unavailable|mailbox (is )?not available|recipnotfound|recipientnotfound|not listed in|unknown or illegal|illegal (user|alias)|no valid recipients|bad destination mailbox|recipient name is not recognized|not a valid (user|mailbox|recipient)|unknown (local part|mailbox|alias)|no account by that name|invalid final delivery|user doesn't exist|unable to find (the )?(user|recipient)|recipient is not (known|valid)|destinataire invalide|no such user here|the email account that you tried to reach does not exist|mailbox does not exist|user not known|addressee unknown|unknown account/ },
  { reason: "filtered", re: /filtered|(doesn't|does not) have an? .{1,40} account|\d{3} ?: user unknown|recipient preferences|refused due to recipient|rejected by (the )?recipient(?! domain)|domain filter|is inactive|not accept(ed)? (any )?(mail|messages) from (your|this|the sender)/ },
  { reason: "systemfull", re: /insufficient system (resources|storage)|system (is )?full|insufficient (disk|storage) space|disk (is )?full|out of disk|spool (is )?full|no space left/ },
  { reason: "systemerror", re: /system error|internal (server |system )?error|server error|\bldap\b|transaction failed|service (is )?currently unavailable|insufficient permission|duplicated message-id|local error in processing|temporary local problem|configuration error|mail system problem|write error|queue file/ },
  { reason: "expired", re: /queue too long|retry timeout exceeded|expired|not (been )?delivered within|could not be delivered (within|for)|giving up|gave up|multiple retries|retry time|timed? ?out|timeout|did not accept our requests to connect|unable to connect|could not connect|failed to connect|couldn't connect|connect(ion)? to .{1,80} failed|host not reachable|not reachable|been in the queue|cannot send message for|no answer from|not responding|unable to deliver .{0,40} after|still undelivered|could not be delivered for/ },
  { reason: "contenterror", re: /8-?bit|\bmime\b|header (is )?(invalid|too long|syntax)|improper use|line too long|too many received|invalid (message )?header|malformed header|message (format|structure)/ },
  { reason: "syntaxerror", re: /syntax error|improper sequence|command (parameter )?not (implemented|recognized)|unrecognized command|bad sequence|command unrecognized|parameter not implemented/ },
];

/** Reasons an enhanced status code (RFC 3463) names by itself, by subject.detail. */
const BY_STATUS: Record<string, Reason> = {
  "1.1": "userunknown",
  "1.2": "hostunknown",
  "1.3": "userunknown",
  "1.4": "userunknown",
  "1.6": "hasmoved",
  "1.7": "rejected",
  "1.8": "rejected",
  "1.10": "userunknown",
  "2.0": "filtered",
  "2.1": "filtered",
  "2.2": "mailboxfull",
  "2.3": "exceedlimit",
  "2.4": "systemerror",
  "3.1": "systemfull",
  "3.2": "notaccept",
  "3.4": "mesgtoobig",
  "3.5": "systemerror",
  "4.1": "expired",
  "4.2": "expired",
  "4.3": "systemerror",
  "4.4": "hostunknown",
  "4.5": "systemfull",
  "4.6": "networkerror",
  "4.7": "expired",
  "5.0": "syntaxerror",
  "5.1": "syntaxerror",
  "5.2": "syntaxerror",
  "5.3": "toomanyconn",
  "5.4": "syntaxerror",
  "6.0": "contenterror",
  "6.1": "contenterror",
  "6.2": "contenterror",
  "6.3": "contenterror",
  "6.5": "contenterror",
  "7.0": "securityerror",
  "7.1": "securityerror",
  "7.2": "securityerror",
  "7.7": "securityerror",
  "7.9": "policyviolation",
  "7.13": "suspend",
  "7.14": "suspend",
  "7.25": "blocked",
  "7.26": "securityerror",
  "7.27": "notaccept",
};

export interface ReasonInput {
  /** The remote server's reply (DSN Diagnostic-Code, or the recipient's block of a prose report). */
  text: string;
  /** What the report's human-readable part says about this recipient, read after the reply. */
  explanation?: string;
  /** The rest of the report, for when neither names anything. */
  context?: string;
  status: string | null;
  replyCode: string | null;
  command: SmtpCommand | null;
  /** DSN Action (failed, delayed, ...). */
  action: string | null;
  /** A warning that delivery is still being tried. */
  delayed: boolean;
  /** The diagnostic came from the receiving host's local delivery (DSN type x-unix), not a remote server. */
  localDelivery?: boolean;
}

/**
 * A multi-line SMTP reply folded into one: `550-5.7.1 Messages with multiple 550-5.7.1 addresses
 * in From:` → `550-5.7.1 Messages with multiple addresses in From:`. Only repeats of the first
 * reply's own prefix go; a different code later (`503 Need RCPT`) stays.
 */
export function unfoldReply(text: string): string {
  const t = text.replace(/\s+/g, " ");
  const first = /(?:^|\s)([245]\d\d)[- ]((?:[245]\.\d{1,3}\.\d{1,3})?)/.exec(t);
  if (!first) return t;
  const code = first[1]!;
  const status = first[2] ? first[2].replace(/\./g, "\\.") : "";
  const repeat = new RegExp(`\\s${code}[- ]${status ? `(?:${status}\\s)?` : ""}`, "g");
  const head = t.slice(0, first.index + first[0].length);
  return head + t.slice(head.length).replace(repeat, " ");
}

/** The reason a text names, by the rules above, or null. */
export function reasonFromText(text: string): Reason | null {
  const t = unfoldReply(text).toLowerCase();
  if (!t.trim()) return null;
  for (const rule of RULES) if (rule.re.test(t)) return rule.reason;
  return null;
}

/** Reasons that speak of the recipient's address: said in reply to MAIL FROM, they speak of the sender's. */
const ADDRESS_REASONS: readonly Reason[] = ["userunknown", "hostunknown", "filtered", "hasmoved", "suspend"];

export function classifyReason(input: ReasonInput): Reason {
  const status = input.status;
  const cls = status?.[0] ?? input.replyCode?.[0] ?? null;
  if (cls === "2" || (input.action && /^(delivered|relayed|expanded)$/.test(input.action))) return "delivered";

  const fromStatus = status ? statusReason(status) : null;
  const fromText = reasonFromText(input.text) ?? (input.explanation ? reasonFromText(input.explanation) : null);
  // "Message size exceeds" with the recipient's limit status (x.2.3) is the recipient's limit.
  if (fromText === "mesgtoobig" && fromStatus === "exceedlimit" && !/too (big|large)/i.test(input.text)) return "exceedlimit";
  if (fromText) return refine(fromText, fromStatus, status, input.command);
  if (input.localDelivery) return "mailererror";
  // A delay notice whose status is only generic (4.5.0, 4.0.0): the delivery is still being tried.
  if ((input.delayed || input.action === "delayed") && (!fromStatus || fromStatus === "syntaxerror")) return "expired";
  if (fromStatus) return refine(fromStatus, fromStatus, status, input.command);

  const fromContext = input.context ? reasonFromText(input.context) : null;
  if (fromContext) return refine(fromContext, fromStatus, status, input.command);

  switch (input.command) {
    case "MAIL":
      return "rejected";
    case "CONN":
    case "HELO":
      return "blocked";
    case "RCPT":
      if (cls === "5") return "userunknown";
      break;
  }
  const reply = input.replyCode;
  if (reply === "556") return "notaccept";
  if (reply === "551") return "hasmoved";
  if (reply && /^50[0-4]$/.test(reply)) return "syntaxerror";
  if (input.delayed || input.action === "delayed") return "expired";
  return "onhold";
}

/** A reason read from the reply, weighed against the command it answered and the status. */
function refine(reason: Reason, fromStatus: Reason | null, status: string | null, command: SmtpCommand | null): Reason {
  // An address verdict given to MAIL FROM is about the sender's address.
  if (command === "MAIL" && ADDRESS_REASONS.includes(reason)) return "rejected";
  if (reason === "userunknown") {
    // The status names an unknown address (x.1.x): that is the verdict, whatever the command.
    if (fromStatus === "userunknown" || fromStatus === "hostunknown") return reason;
    // An unknown address answered after the message was sent is the recipient's filter speaking
    // (Japanese carriers, for one, refuse a sender this way), not a verdict on the address; so is
    // a status that names filtering (x.2.0).
    if (command === "DATA" || (status && /^\d\.(2\.0|7\.\d+)$/.test(status))) return "filtered";
  }
  return reason;
}

/** The reason an enhanced status names by itself (5.1.1 → userunknown), or null (5.0.0, 4.7.0 ...). */
export function statusReason(status: string): Reason | null {
  const s = enhancedStatus(status);
  if (!s) return null;
  const detail = s.slice(2);
  return BY_STATUS[detail] ?? (detail.startsWith("7.") ? "securityerror" : null);
}
