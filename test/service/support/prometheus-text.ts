/** One scrape of Prometheus text format: each sample by `name{label="value",...}` (labels sorted), comments left out. */
export type Samples = ReadonlyMap<string, number>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(LABEL)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(sampleKey(m[1]!, labels), Number(m[3]));
  }
  return samples;
}

/** The key of `name` with `labels` ({ a: 'x' } -> name{a="x"}), as parseSamples writes it. */
export function sample(name: string, labels: Readonly<Record<string, string>> = {}): string {
  return sampleKey(
    name,
    Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .sort(),
  );
}

function sampleKey(name: string, labels: readonly string[]): string {
  return labels.length === 0 ? name : `${name}{${labels.join(',')}}`;
}

/** after - before for every sample of the named metrics that changed (a sample missing counts as 0). */
export function deltas(before: Samples, after: Samples, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const name = key.split('{')[0]!;
    if (!names.includes(name)) continue;
    const d = value - (before.get(key) ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}
