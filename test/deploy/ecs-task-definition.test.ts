import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { whatsappSaasCatalog } from '../../src/catalog/whatsapp-saas.js';
import { loadServiceConfig } from '../../src/service/config.js';
import { typeErrorsAgainst } from './support/sdk-type-check.js';

const REPO = join(import.meta.dirname, '../..');
const SECRET_NAMES = new Set(whatsappSaasCatalog().entries.flatMap((e) => [e.name, `${e.name}_PREVIOUS`]));
/** Fargate's CPU units and the memory (MiB) each allows (the ECS developer guide's task size table). */
const FARGATE_SIZES: Record<string, (mib: number) => boolean> = {
  '256': (m) => [512, 1024, 2048].includes(m),
  '512': (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  '1024': (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  '2048': (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  '4096': (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
};

describe('deploy/ecs-task-definition.json', () => {
  let raw: unknown;
  let def: RegisterTaskDefinitionCommandInput;

  beforeAll(async () => {
    raw = JSON.parse(await readFile(join(REPO, 'deploy/ecs-task-definition.json'), 'utf8'));
    def = raw as RegisterTaskDefinitionCommandInput;
  });

  it('is a valid RegisterTaskDefinition input for the AWS SDK (types, enums, no unknown keys)', () => {
    expect(typeErrorsAgainst(raw, 'RegisterTaskDefinitionCommandInput', '@aws-sdk/client-ecs')).toEqual([]);
  }, 60_000);

  it('would be refused by the same check with a misspelt key or a wrong enum value', () => {
    const broken = structuredClone(raw) as { networkMode: string; containerDefinitions: Record<string, unknown>[] };
    broken.networkMode = 'vpc';
    broken.containerDefinitions[0]!.helthCheck = broken.containerDefinitions[0]!.healthCheck;

    const errors = typeErrorsAgainst(broken, 'RegisterTaskDefinitionCommandInput', '@aws-sdk/client-ecs');

    expect(errors.join('\n')).toContain('"vpc"');
    expect(errors.join('\n')).toContain('helthCheck');
  }, 60_000);

  it('runs on Fargate in awsvpc mode with a task size Fargate offers', () => {
    expect(def.requiresCompatibilities).toEqual(['FARGATE']);
    expect(def.networkMode).toBe('awsvpc');
    expect(FARGATE_SIZES[def.cpu!]?.(Number(def.memory))).toBe(true);
  });

  it('separates the task role (the app reads secrets) from the execution role (ECS pulls and logs)', () => {
    expect(def.taskRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
    expect(def.executionRoleArn).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
    expect(def.taskRoleArn).not.toBe(def.executionRoleArn);
    expect(def.taskRoleArn).toContain('secrets-read');
  });

  it('reads secrets from Secrets Manager at run time: USE_AWS_SECRETS=true, no secret in environment or secrets', () => {
    const [container] = def.containerDefinitions!;
    const env = Object.fromEntries(container!.environment!.map((e) => [e.name!, e.value!]));

    expect(def.containerDefinitions).toHaveLength(1);
    expect(env.USE_AWS_SECRETS).toBe('true');
    expect(Object.keys(env).filter((name) => SECRET_NAMES.has(name))).toEqual([]);
    expect(Object.keys(env).filter((name) => /(TOKEN|SECRET|PASSWORD|KEY|URL)$/.test(name))).toEqual([]);
    // ECS-injected secrets are read once at task start (by the execution role) and never rotate.
    expect(container!.secrets).toBeUndefined();
    expect(container!.environmentFiles).toBeUndefined();
  });

  it('sets only settings the service accepts, listening on the container port behind one proxy hop', () => {
    const [container] = def.containerDefinitions!;
    const env = Object.fromEntries(container!.environment!.map((e) => [e.name!, e.value!]));

    const config = loadServiceConfig(env);

    expect(config).toMatchObject({ useAwsSecrets: true, host: '0.0.0.0', awsRegion: 'us-east-1' });
    // One load balancer in front: trust exactly one hop of X-Forwarded-For.
    expect(config.trustProxy).toBe(1);
    expect(container!.portMappings).toEqual([expect.objectContaining({ containerPort: config.port, protocol: 'tcp' })]);
    expect(container!.essential).toBe(true);
    expect(container!.user).toBe('node');
    // Longer than the service's own drain (SHUTDOWN_TIMEOUT_MS), so ECS's SIGKILL never cuts it short.
    expect(container!.stopTimeout! * 1000).toBeGreaterThan(config.shutdownTimeoutMs);
  });

  it('checks health on /healthz with the same probe as the Dockerfile', async () => {
    const [container] = def.containerDefinitions!;
    const dockerfile = await readFile(join(REPO, 'Dockerfile'), 'utf8');
    const { command = [], interval = 0, timeout = 0, retries = 0, startPeriod = 0 } = container!.healthCheck!;

    expect(command[0]).toBe('CMD');
    expect(command.slice(1, 3)).toEqual(['node', '-e']);
    expect(command[3]).toContain("/healthz')");
    expect(dockerfile).toContain(JSON.stringify(command[3]));
    expect(timeout).toBeLessThan(interval);
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(startPeriod).toBeGreaterThan(0);
  });

  it('sends logs to CloudWatch Logs in the task region, without blocking the app on the log driver', () => {
    const [container] = def.containerDefinitions!;
    const options = container!.logConfiguration!.options!;

    expect(container!.logConfiguration!.logDriver).toBe('awslogs');
    expect(options['awslogs-group']).toBe('/ecs/whatsapp-saas-backend');
    expect(options['awslogs-region']).toBe(container!.environment!.find((e) => e.name === 'AWS_REGION')!.value);
    expect(options['awslogs-stream-prefix']).toBeTruthy();
    expect(options.mode).toBe('non-blocking');
  });

  it('pins the image to a version tag and keeps the root file system read-only', () => {
    const [container] = def.containerDefinitions!;

    expect(container!.image).toMatch(/:\d+\.\d+\.\d+$|@sha256:[0-9a-f]{64}$/);
    expect(container!.readonlyRootFilesystem).toBe(true);
  });
});
