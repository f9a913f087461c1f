import type { SecretsEngine } from '../engine/index.js';
import type { WhatsappSaasSpec } from '../catalog/whatsapp-saas.js';

/** What the HTTP layer needs from the secrets engine: status, accepted credentials, refresh. */
export type ServiceEngine = Pick<SecretsEngine<WhatsappSaasSpec>, 'status' | 'accepted' | 'refresh'>;
