import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * Faults injected into a real SDK client (a middleware, so the request still crosses the wire to
 * the local endpoint): from call number `crashAt` on, every call fails as if the process had
 * died there. `mode` says what happens to that call itself: `before` it is never sent, `after`
 * it reaches Secrets Manager and is applied, and only the answer is lost.
 */
export interface FaultPlan {
  readonly crashAt?: number;
  readonly mode?: 'before' | 'after';
  /** Runs before a call is sent (after its number is counted): to change the world under it. */
  readonly beforeSend?: (call: number, commandName: string, input: Record<string, unknown>) => Promise<void>;
  /** Runs once a call has been answered, before the caller sees the answer: to act between two of its calls. */
  readonly afterSend?: (call: number, commandName: string, input: Record<string, unknown>) => Promise<void>;
}

export interface Recorded {
  /** Operation names in order, one per call the code made (the faulted ones included). */
  readonly calls: string[];
}

/** A simulated crash: no AWS answer, like a timeout, so the caller cannot know what happened. */
export function crashError(): Error {
  return Object.assign(new Error('simulated crash'), { name: 'TimeoutError' });
}

export function injectFaults(client: SecretsManagerClient, plan: FaultPlan = {}): Recorded {
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? 'unknown');
      const n = calls.length;
      await plan.beforeSend?.(n, context.commandName ?? 'unknown', args.input as Record<string, unknown>);
      if (plan.crashAt === undefined || n < plan.crashAt) {
        const out = await next(args);
        await plan.afterSend?.(n, context.commandName ?? 'unknown', args.input as Record<string, unknown>);
        return out;
      }
      if (n === plan.crashAt && plan.mode === 'after') await next(args);
      throw crashError();
    },
    { step: 'initialize', name: 'testFaults' },
  );
  return { calls };
}
