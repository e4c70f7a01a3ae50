// Rate-limit algorithms, pure and clock-free: calendar windows (day/hour, in UTC or a
// workspace's IANA time zone) with fixed counters, and GCRA for bursts. The Durable Objects
// persist the state; these functions decide.

export type Period = "hour" | "day";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// One formatter per zone: constructing Intl.DateTimeFormat costs far more than formatting, and
// every limit decision of a workspace with a time zone asks for two or three offsets.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    if (formatters.size < 1000) formatters.set(tz, f);
  }
  return f;
}

/** Offset of `tz` from UTC at instant `at`, in ms (positive east of Greenwich). */
export function tzOffsetMs(at: number, tz: string): number {
  if (tz === "UTC") return 0;
  const parts = formatterFor(tz).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(at / 1000) * 1000;
}

// Settings are parsed on every accept and delivery; constructing a formatter is not free.
const zoneValidity = new Map<string, boolean>();

export function isValidTimeZone(tz: string): boolean {
  let ok = zoneValidity.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (zoneValidity.size < 1000) zoneValidity.set(tz, ok);
  }
  return ok;
}

/** Start of the calendar window containing `now`, as a UTC instant. */
export function windowStart(now: number, period: Period, tz = "UTC"): number {
  const size = period === "day" ? DAY : HOUR;
  const offset = tzOffsetMs(now, tz);
  let start = Math.floor((now + offset) / size) * size - offset;
  // Across a DST change the offset at the window's start differs from now's: correct once.
  const startOffset = tzOffsetMs(start, tz);
  if (startOffset !== offset) start = Math.floor((now + startOffset) / size) * size - startOffset;
  return start > now ? start - size : start;
}

/** Start of the next window: when a refused request can go. */
export function windowEnd(now: number, period: Period, tz = "UTC"): number {
  const size = period === "day" ? DAY : HOUR;
  const start = windowStart(now, period, tz);
  // Probe past the nominal end to land in the next window whatever the DST shift.
  return windowStart(start + size + 2 * HOUR * (period === "day" ? 1 : 0) + 1, period, tz);
}

export interface Counter {
  windowStart: number;
  count: number;
}

export interface CounterLimit {
  period: Period;
  max: number;
}

export type Check = { ok: true; next: Counter } | { ok: false; retryAt: number };

/** Would adding `n` stay within `max` for the window containing `now`? */
export function checkCounter(c: Counter | undefined, limit: CounterLimit, n: number, now: number, tz = "UTC"): Check {
  const start = windowStart(now, limit.period, tz);
  const count = c && c.windowStart === start ? c.count : 0;
  if (count + n > limit.max) return { ok: false, retryAt: windowEnd(now, limit.period, tz) };
  return { ok: true, next: { windowStart: start, count: count + n } };
}

/** Past any wait a large request can legitimately leave (1,000 recipients at 2/s is under 10 minutes). */
const CLOCK_AHEAD_SLACK_MS = 10 * 60_000;

/**
 * GCRA (the generic cell rate algorithm): a token bucket kept as one number, the theoretical
 * arrival time. `ratePerSecond` sustained, up to `burst` at once.
 */
export function checkGcra(tat: number | undefined, ratePerSecond: number, burst: number, n: number, now: number): { ok: true; tat: number } | { ok: false; retryAt: number } {
  const interval = 1000 / ratePerSecond;
  const tolerance = interval * burst;
  // An admitted request leaves tat at most now + tolerance, or now + interval * n for one larger
  // than the burst (below); a value far beyond can only come from a clock that ran ahead
  // (another machine, a test's fake clock) and must not block now.
  const base = tat === undefined || tat > now + tolerance + CLOCK_AHEAD_SLACK_MS ? now : Math.max(tat, now);
  const newTat = base + interval * n;
  // A request larger than the whole burst (a message to more recipients than one shard's share)
  // could never fit: it is admitted once the bucket is full, and pays for all n by pushing the
  // arrival time out, so the sustained rate still holds. Without this it is deferred for ever.
  const allowAt = newTat - Math.max(tolerance, interval * n);
  if (allowAt > now) return { ok: false, retryAt: Math.ceil(allowAt) };
  return { ok: true, tat: newTat };
}
