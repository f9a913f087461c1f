/**
 * The prefix of the Redis channels service instances listen on for refresh notices. Published by
 * an instance's POST /admin/refresh-secrets, by `secrets rotate` and by the rotation function; one
 * definition for all three, so they cannot drift apart.
 */
export const REFRESH_CHANNEL = 'secrets:refresh';

/**
 * The refresh channel of one catalog prefix (project and environment) and source:
 * `secrets:refresh:<project>/<environment>:<env|aws>`. Instances that read other secrets share no
 * channel: `npm run dev` (.env) and `npm run dev:aws` on one machine and one Redis, or two
 * environments on one Redis, never refresh each other. The CLI and the rotation function publish
 * on the `aws` one: they rotate what Secrets Manager holds.
 */
export function refreshChannel(catalog: { readonly prefix: string }, source: 'env' | 'aws'): string {
  return `${REFRESH_CHANNEL}:${catalog.prefix}:${source}`;
}

/**
 * A refresh notice: which secrets changed (catalog names, and their new version ids when the
 * sender knows them), who says so and why. Never a value: a notice is a hint to re-read the
 * store, which stays the only place values come from.
 */
export interface RefreshNotice {
  readonly v: 1;
  /** The sender (an instance id, `secrets-cli`, `rotation-function`), for logs and to skip its own. */
  readonly origin: string;
  readonly reason: string;
  /** Catalog names, each once; none at all asks for a full refresh (every secret). */
  readonly names: readonly string[];
  /** New version ids by name, a subset of `names`. */
  readonly versions?: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly at: string;
}

/**
 * Upper bounds of a notice: a message over MAX_NOTICE_BYTES is dropped before JSON.parse sees
 * it, so junk costs a length check, not a parse of megabytes.
 */
export const MAX_NOTICE_BYTES = 4096;
const MAX_ORIGIN_CHARS = 128;
const MAX_REASON_CHARS = 200;
const MAX_AT_CHARS = 40;
// AWS version ids are UUIDs (32-64 characters); the local endpoint's are too.
const VERSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;
const KEYS = new Set(['v', 'origin', 'reason', 'names', 'versions', 'at']);

/** Why a message was not taken as a notice: a code for logs and metrics, never its content. */
/** What parsing needs of the catalog: whether a name is in it. */
export interface NoticeNames {
  entry(name: string): unknown;
}

export type NoticeProblem = 'too-large' | 'not-json' | 'bad-shape' | 'unknown-name';

export type ParsedNotice = { readonly ok: true; readonly notice: RefreshNotice } | { readonly ok: false; readonly problem: NoticeProblem };

/** The wire form of a notice. Throws on a name outside the catalog: a sender's bug, not input. */
export function refreshNoticeMessage(catalog: NoticeNames, notice: Omit<RefreshNotice, 'v'>): string {
  const message = JSON.stringify({ v: 1, ...notice });
  const parsed = parseRefreshNotice(message, catalog);
  if (!parsed.ok) throw new Error(`Refusing to publish a malformed refresh notice (${parsed.problem})`);
  return message;
}

/**
 * Strict parse of a message from the refresh channel: anyone who can publish on Redis can send
 * anything, so only the exact shape, within bounds, naming catalog secrets, is a notice.
 */
export function parseRefreshNotice(message: string, catalog: NoticeNames): ParsedNotice {
  // UTF-16 length bounds the UTF-8 size from below; Buffer.byteLength only when it could matter.
  if (message.length > MAX_NOTICE_BYTES || Buffer.byteLength(message, 'utf8') > MAX_NOTICE_BYTES) return { ok: false, problem: 'too-large' };
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { ok: false, problem: 'not-json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: 'bad-shape' };
  const o = value as Record<string, unknown>;
  if (Object.keys(o).some((k) => !KEYS.has(k))) return { ok: false, problem: 'bad-shape' };
  const { v, origin, reason, names, versions, at } = o;
  if (v !== 1) return { ok: false, problem: 'bad-shape' };
  if (!boundedText(origin, MAX_ORIGIN_CHARS) || !boundedText(reason, MAX_REASON_CHARS) || !boundedText(at, MAX_AT_CHARS)) return { ok: false, problem: 'bad-shape' };
  if (Number.isNaN(Date.parse(at))) return { ok: false, problem: 'bad-shape' };
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return { ok: false, problem: 'bad-shape' };
  if (new Set(names).size !== names.length) return { ok: false, problem: 'bad-shape' };
  if (!names.every((n: string) => catalog.entry(n) !== undefined)) return { ok: false, problem: 'unknown-name' };
  if (versions !== undefined) {
    if (typeof versions !== 'object' || versions === null || Array.isArray(versions)) return { ok: false, problem: 'bad-shape' };
    for (const [name, id] of Object.entries(versions)) {
      if (!names.includes(name) || typeof id !== 'string' || !VERSION_ID.test(id)) return { ok: false, problem: 'bad-shape' };
    }
  }
  return {
    ok: true,
    notice: { v: 1, origin, reason, names: names as string[], ...(versions !== undefined && { versions: versions as Record<string, string> }), at },
  };
}

function boundedText(value: unknown, maxChars: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxChars && PRINTABLE.test(value);
}
