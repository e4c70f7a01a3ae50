// Prometheus text exposition format 0.0.4: HELP/TYPE once per family, escaped label values.
export type MetricType = "counter" | "gauge" | "histogram";

export interface Sample {
  labels: Record<string, string>;
  value: number;
  /** For histograms: the sample name's suffix (_bucket, _sum, _count). */
  suffix?: string;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function render(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      out.push(`${f.name}${s.suffix ?? ""}${labels ? `{${labels}}` : ""} ${formatValue(s.value)}`);
    }
  }
  return out.join("\n") + "\n";
}
