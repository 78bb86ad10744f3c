import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import type { GradeflowConfig } from '../../config/schema';
import type { GradingSpec } from '../../shared/activity-contracts';
import { callbackBody } from '../../shared/callback-body';
import { effectiveLimits } from '../../shared/limits';
import { sha256Hex } from '../../shared/sha256';
import type { CallbackBody, GradeResult, GradingSettings } from '../../shared/types';
import type { GradingScope } from '../heartbeat';
import { ContainerSlots } from './container-slots';
import { launchContainer, type LaunchDeps } from './launch-container';
import { OutputCollectors } from './output-collectors';
import { rejectedGraderResult } from './run-container';
import { superviseContainer } from './supervise-container';

/** One grading to try, as a grader author names it. */
export interface TryRequest {
  image: string;
  /** The submission: one file as it is, several packed into one tar (as a platform would send an archive). */
  files: Array<{ name: string; content: Buffer }>;
  flavour: string;
  grading: GradingSettings;
  params: Record<string, string>;
}

export interface TryOutcome {
  spec: Omit<GradingSpec, 'file'> & { file: { name: string; sha256: string; size: number } };
  result: GradeResult;
  callbackBody: CallbackBody;
}

/** The submission as one file: a single file as it is; several as `submission.tar`, each at its base name. */
async function submissionFile(files: TryRequest['files']): Promise<{ name: string; content: Buffer }> {
  if (files.length === 1) return files[0]!;
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name, mode: 0o644 }, f.content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return { name: 'submission.tar', content: Buffer.concat(chunks) };
}

/**
 * Run one grading on this machine's Docker engine exactly as a grading host does: the same container
 * options, limits (the flavour's, from this configuration), submission copy, output collection and
 * parsers (launchContainer, superviseContainer), with no Temporal and no database. Interrupting it
 * (`signal`) kills and removes the container.
 */
export async function tryGrading(docker: Dockerode, config: GradeflowConfig, req: TryRequest, signal: AbortSignal): Promise<TryOutcome> {
  const flavour = config.flavours[req.flavour];
  if (!flavour) throw new Error(`unknown flavour "${req.flavour}" (this configuration has: ${Object.keys(config.flavours).join(', ')})`);
  const file = await submissionFile(req.files);
  const id = `try-${randomBytes(6).toString('hex')}`;
  const fileRef = { name: file.name, sha256: sha256Hex(file.content), size: file.content.length };
  const spec: GradingSpec = {
    submissionId: id,
    workflowId: id,
    platformId: 'try',
    attempt: 1,
    image: req.image,
    flavour: req.flavour,
    limits: effectiveLimits(flavour, {}),
    env: req.params,
    file: { ...fileRef, inlineBase64: file.content.toString('base64') },
    grading: req.grading,
  };
  const deps: LaunchDeps = {
    docker,
    host: { hostId: 'try', hostQueue: 'try' },
    slots: new ContainerSlots(1),
    collectors: new OutputCollectors(),
    // The file travels inline: nothing is fetched from a server.
    submissions: { serverUrl: 'http://127.0.0.1:0', workerToken: '' },
    isolationFor: () => ({ ...(flavour.runtime ? { runtime: flavour.runtime } : {}), allowRoot: flavour.allowRoot, switchUser: flavour.switchUser }),
    pullPolicyFor: () => flavour.pullPolicy,
    registries: config.registries,
    archiveLimits: config.archives,
    // No database here: the grader is told this grading's own facts, and of no earlier submission.
    graderFacts: async () => ({
      submission: { id, createdAt: new Date().toISOString(), assignmentId: null, studentId: null, courseId: null },
      previous: [],
    }),
  };
  const interrupted = new Promise<never>((_, reject) => {
    const stop = (): void => reject(new Error('interrupted'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  interrupted.catch(() => undefined);
  const scope: GradingScope = { heartbeat: () => undefined, cancellationSignal: signal, cancelled: interrupted };
  let result: GradeResult;
  try {
    const started = await launchContainer(deps, scope, spec);
    result = await superviseContainer(deps, scope, spec, started);
  } catch (err) {
    const rejected = rejectedGraderResult(err);
    if (!rejected) throw err;
    result = rejected;
  }
  return { spec: { ...spec, file: fileRef }, result, callbackBody: callbackBody({ submissionId: id }, 1, result, spec.image) };
}
