import { tokenRotation } from './token-rotation.js';

/** ADMIN_TOKEN: 48 random bytes, base64url (64 characters); the operator gets it by file or --print. */
export const adminTokenRotation = tokenRotation({ kind: 'admin-token', secretName: 'ADMIN_TOKEN' });
