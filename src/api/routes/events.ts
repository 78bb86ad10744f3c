import type { ServerResponse } from 'node:http';
import { platformSecurity } from '../schemas/common';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { publicStatus } from '../../shared/status';
import type { SubmissionProgress } from '../../shared/types';
import type { Submission } from '../../store/submissions';
import { platformOf } from '../auth';
import type { AppDeps } from '../deps';
import { ErrorBody, SubmissionIdParams } from '../route-schemas';
import { findSubmission } from './submissions';

const FINISHED: readonly string[] = ['completed', 'failed', 'cancelled'];

/** One `status` event: what a platform's page shows of a submission. */
interface EventState {
  status: string;
  attempt: number;
  /** The grading host, while a run knows it. */
  host: string | null;
  regrade_pending: boolean;
}

/** The state GET would show (src/api/present.ts's rule): the live run's phase while it runs, else the stored status. */
function stateOf(sub: Submission, progress: SubmissionProgress | undefined): EventState {
  const live = progress && progress.phase !== 'completed' && progress.phase !== 'failed' ? progress : undefined;
  return {
    status: live ? live.phase : publicStatus(sub.status),
    attempt: live?.attempt ?? sub.attempts,
    host: live?.host ?? null,
    regrade_pending: live?.regradePending ?? false,
  };
}

type EventDeps = Pick<AppDeps, 'config' | 'store' | 'workflows'>;

/**
 * Server-Sent Events of submissions' status changes. Each open stream looks at its submission every
 * `api.eventsPollMs` (the database, and the run's `status` query while it runs, as GET does) and sends an
 * event when what it shows changes; a comment every `api.eventsHeartbeatMs`. A stream ends when the
 * submission is finished, when the client goes, or when the server closes; its timers end with it.
 */
export function createEventStreams() {
  const open = new Set<() => void>();

  function serve(res: ServerResponse, sub: Submission, deps: EventDeps, log: { warn(o: object, m: string): void }): void {
    let last = '';
    let n = 0;
    let poll: NodeJS.Timeout | undefined;
    let ended = false;
    const write = (text: string): void => {
      if (!ended) res.write(text);
    };
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), deps.config.api.eventsHeartbeatMs);
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(poll);
      clearInterval(heartbeat);
      open.delete(end);
      res.end();
    };
    open.add(end);
    res.on('close', end);
    const look = async (current: Submission | undefined): Promise<void> => {
      const now = current ?? (await deps.store.get(sub.platformId, sub.id));
      if (!now || ended) return end();
      const progress = FINISHED.includes(now.status) ? undefined : await deps.workflows.progress(now).catch(() => undefined);
      const state = stateOf(now, progress);
      const text = JSON.stringify(state);
      if (text !== last) {
        last = text;
        write(`event: status\nid: ${++n}\ndata: ${text}\n\n`);
      }
      if (FINISHED.includes(state.status)) return end();
    };
    const loop = (current?: Submission): void => {
      look(current)
        .catch((err: unknown) => log.warn({ err }, 'events stream: the submission could not be read; trying again'))
        .finally(() => {
          if (!ended) poll = setTimeout(loop, deps.config.api.eventsPollMs);
        });
    };
    loop(sub);
  }

  return {
    /** Streams open now. */
    get open(): number {
      return open.size;
    },
    /** End every open stream (the server is closing). */
    closeAll(): void {
      for (const end of [...open]) end();
    },
    /** GET /v1/submissions/:id/events (under `buildApp`'s auth hook). */
    register(v1: FastifyInstance, deps: EventDeps): void {
      v1.get<{ Params: { id: string } }>(
        '/v1/submissions/:id/events',
        {
          schema: {
            summary: "A submission's status changes, as Server-Sent Events",
            description:
              'A `text/event-stream`: an `event: status` with `{status, attempt, host, regrade_pending}` at once and at each change (queued → running → delivering → completed…), until the submission is finished, then the stream closes. A finished submission sends its final state and closes. A comment line (`: heartbeat`) every `api.eventsHeartbeatMs` (15 s).',
            tags: ['submissions'],
            security: platformSecurity,
            params: SubmissionIdParams,
            response: {
              200: {
                description: 'the event stream',
                content: { 'text/event-stream': { schema: Type.String({ description: 'SSE frames: `event: status`, `id: <n>`, `data: <JSON>`' }) } },
              },
              404: ErrorBody,
            },
          },
        },
        async (req, reply) => {
          const sub = await findSubmission(deps, platformOf(req), req.params.id);
          reply.hijack();
          reply.raw.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            connection: 'keep-alive',
            'x-accel-buffering': 'no',
          });
          serve(reply.raw, sub, deps, req.log);
        },
      );
    },
  };
}

export type EventStreams = ReturnType<typeof createEventStreams>;
