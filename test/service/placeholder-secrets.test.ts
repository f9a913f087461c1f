import { describe, expect, it } from 'vitest';
import { placeholderRefusal } from '../../src/service/placeholder-secrets.js';

const AWS = { useAwsSecrets: true, endpoint: undefined, prefix: 'whatsapp-saas/mvp', region: 'eu-west-1' };

describe('placeholderRefusal', () => {
  it('refuses placeholders in AWS mode against real AWS, naming them and where to set them', () => {
    expect(placeholderRefusal(['META_APP_SECRET', 'OPENAI_API_KEY'], AWS)).toBe(
      'Secrets initialization failed: META_APP_SECRET, OPENAI_API_KEY hold the placeholders of .env.example; set the real values in AWS Secrets Manager (whatsapp-saas/mvp/..., region eu-west-1).',
    );
    expect(placeholderRefusal(['OPENAI_API_KEY'], { ...AWS, endpoint: 'https://secretsmanager.eu-west-1.amazonaws.com' })).toBe(
      'Secrets initialization failed: OPENAI_API_KEY holds the placeholder of .env.example; set the real value in AWS Secrets Manager (whatsapp-saas/mvp/..., region eu-west-1).',
    );
  });

  it('accepts them in .env mode and against a local endpoint (npm run dev:aws)', () => {
    expect(placeholderRefusal(['META_APP_SECRET'], { ...AWS, useAwsSecrets: false })).toBeUndefined();
    for (const endpoint of ['http://127.0.0.1:4566', 'http://localhost:4566', 'http://[::1]:4566']) expect(placeholderRefusal(['META_APP_SECRET'], { ...AWS, endpoint })).toBeUndefined();
  });

  it('has nothing to refuse without placeholders', () => {
    expect(placeholderRefusal([], AWS)).toBeUndefined();
  });
});
