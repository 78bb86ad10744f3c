import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { afterAll, beforeAll } from 'vitest';
import type { GradeflowConfig } from '../../src/config/schema';
import { dataConverterFromConfig } from '../../src/security/payload-keys';
import { connectClient } from '../../src/shared/temporal-connection';
import { startProcessStack, type ProcessStack, type ProcessStackOptions } from './process-stack';
import { startReceiver, type Receiver, type ReceiverOptions } from './receiver';
import { startStack, type Stack } from './stack';

/**
 * The set-up an e2e file (or a describe block) shares: each `use…` registers a `beforeAll` that starts the
 * part and an `afterAll` that stops it, and returns a handle to use in the tests. The handle is lazy: it
 * stands for the part once its `beforeAll` has run, and throws if used before. Hooks run in the order they
 * are registered and stop in the reverse order (vitest's `sequence.hooks: 'stack'`), so a receiver made
 * with a stack's secret stops before the stack.
 */

/** A stand-in for what `current()` returns once started: property reads go to it, methods bound to it. */
function lazy<T extends object>(what: string, current: () => T | undefined): T {
  const target = (): T => {
    const value = current();
    if (!value) throw new Error(`${what} is used before its beforeAll ran, or it failed to start`);
    return value;
  };
  return new Proxy({} as T, {
    get(_, prop) {
      const t = target();
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
    set: (_, prop, value) => Reflect.set(target(), prop, value),
    has: (_, prop) => Reflect.has(target(), prop),
  });
}

/** Register the pair of hooks for a part started by `start` and stopped by `stop`; returns its lazy handle. */
function use<T extends object>(what: string, start: () => Promise<T>, stop: (t: T) => Promise<void> | void): T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value) await stop(value);
  });
  return lazy(what, () => value);
}

/** An in-process gradeflow for the file or describe block (see `startStack`). */
export function useStack(name: string, overrides: Partial<GradeflowConfig> = {}, opts: { host?: boolean } = {}): Stack {
  return use(`stack "${name}"`, () => startStack(name, overrides, opts), (s) => s.stop());
}

/** A callback receiver that verifies signatures with the stack's platform `test` secret (see `startReceiver`). */
export function useReceiver(stack: { secret: string }, options: ReceiverOptions = {}): Receiver {
  return use('receiver', () => startReceiver(stack.secret, 0, options), (r) => r.close());
}

/** A Temporal client on the stack's server, for what the API does not show (histories, cancels, resets). */
export function useTemporalClient(stack: Stack): Client {
  let connection: Connection | undefined;
  return use(
    'Temporal client',
    async () => {
      connection = await connectClient(stack.config);
      // With the stack's payload codec, if it has keys (as gradeflow's own clients).
      return new Client({ connection, dataConverter: dataConverterFromConfig(stack.config) });
    },
    () => connection?.close(),
  );
}

/** A temporary directory (e.g. for worker processes' config files), removed afterwards; call the result for its path. */
export function useTempDir(name: string): () => string {
  const dir = use(
    `temporary directory "${name}"`,
    async () => ({ path: mkdtempSync(path.join(os.tmpdir(), `gradeflow-${name}-`)) }),
    (d) => rmSync(d.path, { recursive: true, force: true }),
  );
  return () => dir.path;
}

/** gradeflow as separate processes (see `startProcessStack`), with a grading host of `workerSlots` slots. */
export function useProcessStack(opts: ProcessStackOptions & { workerSlots: number }): ProcessStack {
  return use(
    'process stack',
    async () => {
      const { workerSlots, ...stackOpts } = opts;
      const stack = await startProcessStack(stackOpts);
      try {
        await stack.startWorker(workerSlots);
      } catch (err) {
        await stack.stop();
        throw err;
      }
      return stack;
    },
    (s) => s.stop(),
  );
}
