import { tokenRotation } from './token-rotation.js';

/**
 * META_VERIFY_TOKEN: 48 random bytes, base64url, so it survives Meta's `hub.verify_token` query
 * parameter. Meta keeps its own copy (App Dashboard, Webhooks): the operator enters the new one
 * there after the rotation, which is why the CLI hands it over like the admin token.
 */
export const metaVerifyTokenRotation = tokenRotation({ kind: 'meta-verify-token', secretName: 'META_VERIFY_TOKEN' });
