/**
 * Value kinds: how a raw secret string becomes a typed value. A parser's failure reason describes
 * what was expected and never quotes the input, unlike envalid or zod, whose messages echo it.
 */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface ValueKind<T> {
  /** What the kind expects, in words, for status and error messages. */
  readonly label: string;
  parse(raw: string): Parsed<T>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = (reason: string): Parsed<never> => ({ ok: false, reason });

/** A non-empty string; surrounding whitespace is a mistake, not part of a token. */
export function text(): ValueKind<string> {
  return {
    label: 'non-empty string',
    parse(raw) {
      if (raw.trim().length === 0) return fail('empty');
      if (raw.trim() !== raw) return fail('has leading or trailing whitespace');
      return ok(raw);
    },
  };
}

/** A credential's minimum strength: how long, and how many different characters at least. */
export interface Strength {
  readonly minLength: number;
  /** Refuses `aaaa...` and `abab...`; random tokens of any alphabet pass with overwhelming odds. */
  readonly minDistinct?: number;
}

export const DEFAULT_MIN_DISTINCT = 5;

/**
 * A credential: text() plus a minimum strength, checked wherever a value is read or validated
 * (start-up in every mode, every refresh, `secrets check`). The reason names the rule broken;
 * lengths count characters (code points), not bytes.
 */
export function token(strength: Strength): ValueKind<string> {
  const { minLength, minDistinct = DEFAULT_MIN_DISTINCT } = strength;
  const base = text();
  return {
    label: `string of at least ${minLength} characters, ${minDistinct} or more of them different`,
    parse(raw) {
      const parsed = base.parse(raw);
      if (!parsed.ok) return parsed;
      const chars = [...raw];
      if (chars.length < minLength) return fail(`shorter than ${minLength} characters`);
      if (new Set(chars).size < minDistinct) return fail(`fewer than ${minDistinct} different characters`);
      return parsed;
    },
  };
}

export function integer(bounds: { min?: number; max?: number } = {}): ValueKind<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  return {
    label: `integer in [${min}, ${max}]`,
    parse(raw) {
      if (!/^[+-]?\d{1,16}$/.test(raw.trim())) return fail('not an integer');
      const value = Number(raw.trim());
      if (!Number.isSafeInteger(value) || value < min || value > max) return fail(`out of range [${min}, ${max}]`);
      return ok(value);
    },
  };
}

export function decimal(bounds: { min?: number; max?: number } = {}): ValueKind<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = bounds;
  return {
    label: `number in [${min}, ${max}]`,
    parse(raw) {
      if (!/^[+-]?(\d{1,32}(\.\d{0,32})?|\.\d{1,32})([eE][+-]?\d{1,3})?$/.test(raw.trim())) return fail('not a number');
      const value = Number(raw.trim());
      if (!Number.isFinite(value) || value < min || value > max) return fail(`out of range [${min}, ${max}]`);
      return ok(value);
    },
  };
}

/** A URL whose scheme is one of `protocols` (with the colon, as WHATWG URL reports it). */
export function url(protocols: readonly string[], label: string): ValueKind<string> {
  return {
    label,
    parse(raw) {
      let parsed: URL;
      try {
        parsed = new URL(raw);
      } catch {
        // The URL parser's own message quotes the input; ours must not.
        return fail(`not a valid URL (expected ${label})`);
      }
      if (!protocols.includes(parsed.protocol)) return fail(`wrong scheme (expected ${protocols.join(' or ')})`);
      if (parsed.hostname === '' && !parsed.searchParams.has('host')) return fail('has no host');
      return ok(raw);
    },
  };
}

export const postgresUrl = (): ValueKind<string> => url(['postgres:', 'postgresql:'], 'postgres URL');
export const redisUrl = (): ValueKind<string> => url(['redis:', 'rediss:'], 'redis URL');
