import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../../src/catalog/whatsapp-saas.js';
import { createAll, localClient, putValue, useLocalAws } from '../../support/local-aws.js';
import { freePort } from '../support/free-port.js';
import { throwawayDatabase, type ThrowawayDatabase } from '../support/postgres.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../support/redis-server.js';
import { REPO, spawnService, type ServiceProcess } from '../support/service-process.js';
import { testSecrets } from '../support/service-harness.js';
import { PLACEHOLDERS } from '../../../src/provisioning/placeholder.js';

/**
 * The status page in a real browser: Debian's Chromium (installed by scripts/install-test-deps.sh, which npm test runs first) driven by
 * playwright-core, against a real service process in AWS mode on the local Secrets Manager, so a
 * refresh can show a new version id.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PROJECT = 'svc-admin-ui';
const SCREENSHOT = join(REPO, 'artifacts', 'admin-ui.png');
const ROTATED_OPENAI_KEY = 'sk-canary-rotated-openai-8f1e3d5b7a';

let db: ThrowawayDatabase;
// Redis of its own: the wrong tokens typed here count against 127.0.0.1, in no one else's Redis.
let redis: ThrowawayRedis;
let svc: ServiceProcess;
let profile: string;
let context: BrowserContext;
let secrets: Record<string, string>;

const lsm = useLocalAws();
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the status page is tested in it. Install Debian's package: apt-get install -y chromium (scripts/install-test-deps.sh does, as root).`);
  }
  db = await throwawayDatabase('svc_admin_ui_browser', { create: false });
  redis = await startThrowawayRedis();
  // META_APP_SECRET as a fresh .env has it: the local endpoint takes the placeholder, the page names it.
  secrets = { ...testSecrets(db.url, redis.url), META_APP_SECRET: PLACEHOLDERS.META_APP_SECRET! };
  await createAll(localClient(lsm), whatsappSaasCatalog({ project: PROJECT }), secrets);
  svc = spawnService({
    port: await freePort(),
    env: {
      USE_AWS_SECRETS: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: lsm.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      SECRETS_PROJECT: PROJECT,
      ENV_FILE: '/nonexistent/.env',
    },
  });
  await svc.waitForHealth();
  // A fresh profile: nothing from an earlier run (storage, cache) can make the test pass.
  profile = await mkdtemp(join(tmpdir(), 'admin-ui-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 1000 } });
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  await svc?.stop();
  await redis?.stop();
  await db?.drop();
});

/** Submits the token form and waits for the data call it makes. */
async function submitToken(page: Page, token: string): Promise<number> {
  await page.fill('#token', token);
  const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/admin/secrets/health')), page.click('#token-form button[type=submit]')]);
  return response.status();
}

describe('the status page in Chromium', () => {
  it('loads, refuses a wrong token, shows the 11 secrets, refreshes to a new version, and never shows a value', { timeout: 120_000 }, async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    const bodies: Promise<string>[] = [];
    page.on('response', (r) => bodies.push(r.text().catch(() => '')));
    const policyViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) policyViolations.push(m.text());
    });

    const loaded = await page.goto(`${svc.url}/admin/ui`);
    const title = await page.title();
    const wrong = await submitToken(page, 'not-the-admin-token');
    // The page writes the message after the response arrives: wait for it rather than race it.
    await expect.poll(() => page.textContent('#message'), { timeout: 30_000 }).not.toBe('');
    const wrongMessage = await page.textContent('#message');
    const tableHiddenAfterWrong = await page.isHidden('#status');

    const right = await submitToken(page, secrets.ADMIN_TOKEN!);
    await page.waitForSelector('#status:not([hidden])');
    const rows = await page.locator('#secrets tbody tr').count();
    const inputAfter = await page.inputValue('#token');
    const versionBefore = await page.textContent('tr[data-secret="OPENAI_API_KEY"] td.version');
    const dependencies = await page.locator('#dependencies tbody tr').allTextContents();
    const placeholderCell = await page.textContent('tr[data-secret="META_APP_SECRET"] td.placeholder');
    const summaryBefore = await page.textContent('#summary');

    const rotatedVersion = await putValue(localClient(lsm), `${PROJECT}/mvp/openai-api-key`, ROTATED_OPENAI_KEY);
    await page.click('#refresh');
    // Polled from outside: the page's CSP (no eval) refuses Playwright's own page-side predicates.
    await expect.poll(() => page.textContent('tr[data-secret="OPENAI_API_KEY"] td.version'), { timeout: 30_000 }).toBe(rotatedVersion);
    const refreshResult = await page.textContent('#refresh-result');

    await page.reload();
    await page.waitForSelector('#status:not([hidden])');
    const rowsAfterReload = await page.locator('#secrets tbody tr').count();
    const summary = await page.locator('#summary').innerText();

    await mkdir(join(REPO, 'artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const dom = (await page.content()) + (await page.locator('body').innerText());
    const responses = await Promise.all(bodies);

    expect(loaded?.status()).toBe(200);
    expect(title).toBe('Secrets status');
    expect(wrong).toBe(401);
    expect(wrongMessage).toContain('Wrong admin token (401)');
    expect(tableHiddenAfterWrong).toBe(true);
    expect(right).toBe(200);
    expect(rows).toBe(11);
    expect(inputAfter).toBe('');
    expect(versionBefore).toMatch(/^[0-9a-f-]{36}$/);
    expect(rotatedVersion).not.toBe(versionBefore);
    expect(refreshResult).toContain('changed: OPENAI_API_KEY');
    expect(dependencies.join(' ')).toMatch(/database\s*up/);
    expect(placeholderCell).toBe('placeholder');
    expect(summaryBefore).toContain('PlaceholdersMETA_APP_SECRET (placeholder values');
    expect(summaryBefore).toMatch(/Serving region\s*us-east-1 \(primary\) since/);
    expect(rowsAfterReload).toBe(11);
    expect(summary).toContain('Last full refresh');
    expect(summary).toMatch(/Last refresh of any kind\s+\S.*\(whole catalog, forced\)/);
    expect(policyViolations).toEqual([]);
    expect(existsSync(SCREENSHOT)).toBe(true);
    for (const value of [...Object.values(secrets), ROTATED_OPENAI_KEY]) {
      expect(dom, 'DOM').not.toContain(value);
      for (const body of responses) expect(body, 'a response').not.toContain(value);
    }
  });

  it('throttles wrong tokens typed into the page like any admin call', { timeout: 120_000 }, async () => {
    const page = await context.newPage();
    await page.goto(`${svc.url}/admin/ui`);

    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push(await submitToken(page, `wrong-guess-${i}`));
    const message = await page.textContent('#message');

    expect(statuses).toContain(429);
    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(401));
    expect(message).toMatch(/Too many attempts \(429\): wait \d+ s/);
  });
});
