/**
 * Third-party keys nobody can generate for you. The placeholders pass validation so the service
 * starts locally; calls to Meta or OpenAI fail until they are replaced. Every one carries MARKER,
 * so a placeholder is recognised wherever it ends up (.env, a local Secrets Manager).
 */
export const PLACEHOLDERS: Readonly<Record<string, string>> = {
  META_APP_SECRET: 'placeholder-replace-with-your-meta-app-secret',
  OPENAI_API_KEY: 'sk-placeholder-replace-with-your-openai-api-key',
};

const MARKER = 'placeholder-replace-with-your-';

/** Who the placeholder stands in for: what to replace it before talking to. */
export const PLACEHOLDER_FOR: Readonly<Record<string, string>> = { META_APP_SECRET: 'Meta', OPENAI_API_KEY: 'OpenAI' };

/** Whether a value is one of the generated placeholders (never echoes it). */
export function isPlaceholder(value: string | undefined): boolean {
  return value !== undefined && value.includes(MARKER);
}

/**
 * Whether a Secrets Manager endpoint is this machine's (the local endpoint of `npm run dev:aws`):
 * the only AWS-mode target where placeholders are accepted, as in `.env` mode.
 */
export function isLocalEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  try {
    const host = new URL(endpoint).hostname.replace(/^\[(.*)\]$/, '$1');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}
