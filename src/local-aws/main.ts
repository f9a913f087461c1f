import { USAGE, parseCliOptions } from './cli-options.js';
import { startLocalSecretsManager } from './local-secrets-manager.js';

// Entry point: `npm run local-aws -- --port N`. Runs until SIGINT/SIGTERM, then closes cleanly.
const parsed = parseCliOptions(process.argv.slice(2));
if (parsed.kind === 'help') {
  console.log(USAGE);
  process.exit(0);
}
if (parsed.kind === 'usage-error') {
  console.error(`local-aws: ${parsed.message}\n\n${USAGE}`);
  process.exit(2);
}

try {
  const server = await startLocalSecretsManager(parsed.options);
  console.log(`local Secrets Manager listening on ${server.url}`);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`local-aws: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
