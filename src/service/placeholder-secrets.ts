import type { WhatsappSaasSpec } from '../catalog/whatsapp-saas.js';
import type { SecretName } from '../engine/index.js';
import { isLocalEndpoint, isPlaceholder, PLACEHOLDER_FOR } from '../provisioning/placeholder.js';
import type { ServiceEngine } from './service-engine.js';

/**
 * The catalog names whose value in use is a generated placeholder (`META_APP_SECRET` and
 * `OPENAI_API_KEY` of a fresh .env): shown by /healthz, the admin view and the status page, so a
 * local set-up that works is not mistaken for one that can talk to Meta or OpenAI. Names only;
 * reads through `accepted`, which does not count as a read, and only the names a placeholder
 * stands in for (never ADMIN_TOKEN: admin auth alone reads it).
 */
export function placeholderSecrets(engine: Pick<ServiceEngine, 'status' | 'accepted'>): string[] {
  const loaded = engine.status().secrets;
  return Object.keys(PLACEHOLDER_FOR).filter((name) => name in loaded && isPlaceholder(engine.accepted(name as SecretName<WhatsappSaasSpec>)[0]));
}

/**
 * The start-up refusal of placeholders in AWS mode against real AWS, or undefined. A local
 * endpoint on a loopback address (`npm run dev:aws`, seeded from a fresh .env) is development
 * and accepts them, as `.env` mode does.
 */
export function placeholderRefusal(placeholders: readonly string[], ctx: { readonly useAwsSecrets: boolean; readonly endpoint: string | undefined; readonly prefix: string; readonly region: string }): string | undefined {
  if (!ctx.useAwsSecrets || placeholders.length === 0 || isLocalEndpoint(ctx.endpoint)) return undefined;
  return (
    `Secrets initialization failed: ${placeholders.join(', ')} ${placeholders.length === 1 ? 'holds the placeholder' : 'hold the placeholders'} of .env.example; ` +
    `set the real ${placeholders.length === 1 ? 'value' : 'values'} in AWS Secrets Manager (${ctx.prefix}/..., region ${ctx.region}).`
  );
}
