import type { InlineSpan } from './guide-blocks.js';

/** The code a guide's names are looked up in. */
export interface CodeText {
  /** All source text (src/, scripts/, deploy files, .env.example...). */
  readonly all: string;
  /** The service's route modules, where routes are registered. */
  readonly routes: string;
}

const EVENT = /^(secrets|admin|service|database|redis|rotation|webhook|http|throttle)\.[a-z_]+$/;
const METRIC = /^((?:secrets|http|admin|webhook)_[a-z0-9_]+)(?:[\s{]|$)/;
const SETTING = /^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{5,})(?:=\S*)?$/;
const ROUTE = /^(?:GET|POST|PUT|DELETE) (\/[^\s?]*)/;

const quoted = (name: string) => new RegExp(`['"\`]${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]`);

/**
 * Names the guide spells in backticks that must exist in the code: log events
 * (`secrets.refresh_failed`), metric names, settings and other upper-case names (`SECRETS_TTL_MS`,
 * `AWSCURRENT`), and routes (`GET /admin/secrets/health`). A renamed event or setting then fails
 * the guide's test instead of misleading its reader.
 */
export function namedThingProblems(spans: readonly InlineSpan[], code: CodeText): string[] {
  const problems = new Set<string>();
  for (const { value, line } of spans) {
    const v = value.trim();
    if (EVENT.test(v) && !quoted(v).test(code.all)) problems.add(`line ${line}: log event ${v} is not in the code`);
    const metric = METRIC.exec(v)?.[1];
    if (metric !== undefined && !quoted(metric).test(code.all)) problems.add(`line ${line}: metric ${metric} is not in the code`);
    const setting = SETTING.exec(v)?.[1];
    if (setting !== undefined && !new RegExp(`\\b${setting}\\b`).test(code.all)) problems.add(`line ${line}: ${setting} is not in the code`);
    const route = ROUTE.exec(v)?.[1];
    if (route !== undefined && !quoted(route).test(code.routes) && !quoted(route.replace(/^\/admin(?=\/)/, '')).test(code.routes)) {
      problems.add(`line ${line}: route ${v} is not registered in src/service/routes`);
    }
  }
  return [...problems];
}
