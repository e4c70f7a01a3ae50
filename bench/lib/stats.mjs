export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median with min, max and the spread (max - min) as a percentage of the median. */
export function summarize(xs) {
  const vals = xs.filter((x) => Number.isFinite(x));
  const med = median(vals);
  const min = Math.min(...vals);
  const max = Math.max(...vals);
  return { median: med, min, max, spread_pct: vals.length > 1 && med ? ((max - min) / med) * 100 : 0, runs: vals.length, values: vals };
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);

/** Percentile of an unsorted list (nearest rank). */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
