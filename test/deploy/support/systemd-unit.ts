/**
 * A systemd unit file as sections of key -> values (systemd.syntax(7)): `#`/`;` comments, a
 * trailing backslash continues a line, a key may repeat (values accumulate in order), and an empty
 * assignment (`CapabilityBoundingSet=`) is kept as '' because it resets a list to empty.
 */
export type UnitFile = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

export function parseUnitFile(text: string): UnitFile {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]!) ?? new Map();
      sections.set(section[1]!, current);
      return;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq <= 0) throw new Error(`line ${i + 1}: not "key=value" inside a [section]`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  });
  return sections;
}

/** The last value of a key (what systemd applies for a single-valued setting). */
export function lastValue(unit: UnitFile, section: string, key: string): string | undefined {
  return unit.get(section)?.get(key)?.at(-1);
}

/** `Environment=` assignments as a record: space-separated, double quotes group (systemd.exec(5)). */
export function environmentOf(unit: UnitFile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of unit.get('Service')?.get('Environment') ?? []) {
    for (const m of value.matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = m[1] ?? m[2]!;
      const eq = assignment.indexOf('=');
      if (eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  return env;
}
