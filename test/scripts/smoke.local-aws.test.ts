import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createSecretsManagerClient } from '../../src/engine/index.js';
import { freePort } from '../service/support/free-port.js';
import { waitFor } from '../service/support/wait-for.js';
import { TEST_CREDENTIALS } from '../support/local-aws.js';
import { listening, startScript } from './support/npm-script.js';

/** `npm run local-aws -- --port N`: listens, answers the real SDK, and stops cleanly on Ctrl-C. */
describe('npm run local-aws', () => {
  it('answers ListSecrets on the port it was given and stops on Ctrl-C', async () => {
    const port = await freePort();
    const run = startScript('local-aws', ['--port', String(port)]);
    try {
      await waitFor(() => run.output().includes(`listening on http://127.0.0.1:${port}`), 60_000);
      const client = createSecretsManagerClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: TEST_CREDENTIALS });
      const listed = await client.send(new ListSecretsCommand({}));
      expect(listed.SecretList).toEqual([]);
    } finally {
      await run.stop();
    }
    expect(await listening(port)).toBe(false);
    expect(run.stdout()).toMatch(/^local Secrets Manager listening on http:\/\/127\.0\.0\.1:\d+$/m);
  });
});
