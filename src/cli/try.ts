import { readFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { tryGrading, type TryOutcome } from '../activities/docker/try-grading';
import { parseParams } from '../api/intake';
import { loadConfig } from '../config/load';
import type { FormatChoice, GradeResult } from '../shared/types';

export interface TryCliOptions {
  image: string;
  file: string[];
  format: string;
  flavour: string;
  params?: string;
  maxGrade?: string;
  resultsFile?: string;
  json?: boolean;
}

const FORMATS: readonly FormatChoice[] = ['auto', 'correctomatic', 'gitlab', 'gradescope', 'junit', 'tap'];

/** A usage mistake: said on stderr, exit code 2. */
class UsageError extends Error {}

function gradingOf(opts: TryCliOptions) {
  if (!FORMATS.includes(opts.format as FormatChoice)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const maxGrade = opts.maxGrade === undefined ? undefined : Number(opts.maxGrade);
  if (maxGrade !== undefined && !(Number.isFinite(maxGrade) && maxGrade >= 0)) throw new UsageError('--max-grade must be a non-negative number');
  return {
    format: opts.format as FormatChoice,
    ...(maxGrade !== undefined ? { maxGrade } : {}),
    ...(opts.resultsFile ? { resultsFile: opts.resultsFile } : {}),
  };
}

function paramsOf(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  try {
    return parseParams(text);
  } catch (err) {
    throw new UsageError(`--params: ${(err as Error).message}`);
  }
}

const score = (r: GradeResult): string =>
  r.grade === undefined ? '(no grade)' : `${r.grade}${r.max_grade !== undefined ? ` / ${r.max_grade}` : ''}`;

/** What a grader author reads first: the verdict, why, the tests; then the two JSON documents. */
function describe(o: TryOutcome): string {
  const r = o.result;
  const lines: string[] = [];
  const ran = r.duration_ms !== undefined ? `, ran ${(r.duration_ms / 1000).toFixed(1)} s` : '';
  lines.push(`image ${o.spec.image}, flavour ${o.spec.flavour} (limits ${JSON.stringify(o.spec.limits)})`);
  if (r.success) lines.push(`graded: ${score(r)}${r.format ? ` (format ${r.format})` : ''}${ran}, exit code ${r.exit_code ?? '?'}`);
  else lines.push(`NOT graded: reason ${r.reason}, origin ${r.origin}${ran}, exit code ${r.exit_code ?? '-'}`, `  ${r.error ?? ''}`);
  if (r.grade_visibility) lines.push(`  the grade is hidden from the student until: ${r.grade_visibility}`);
  for (const t of r.tests) {
    const vis = t.visibility && t.visibility !== 'visible' ? ` [${t.visibility}]` : '';
    lines.push(`  ${t.status.padEnd(7)} ${t.score}/${t.max_score}  ${t.number ? `${t.number} ` : ''}${t.name}${vis}`);
  }
  for (const c of r.comments) lines.push(`  comment: ${c}`);
  if (r.stderr?.text) lines.push('stderr (for the instructor):', r.stderr.text.replace(/\n?$/, ''));
  lines.push('', 'normalized result:', JSON.stringify(r, null, 2), '', 'callback body gradeflow would send:', JSON.stringify(o.callbackBody, null, 2));
  return `${lines.join('\n')}\n`;
}

/**
 * `gradeflow try`: one grading on this machine's Docker engine, as production runs it. Exit code 0 when
 * the grading succeeded (a grade), 1 when it did not (the reason says why), 2 for a usage mistake.
 */
export async function runTry(opts: TryCliOptions): Promise<number> {
  let request;
  try {
    if (opts.file.length === 0) throw new UsageError('--file is required (once per file)');
    request = {
      image: opts.image,
      files: opts.file.map((f) => ({ name: path.basename(f), content: readFileSync(f) })),
      flavour: opts.flavour,
      grading: gradingOf(opts),
      params: paramsOf(opts.params),
    };
  } catch (err) {
    process.stderr.write(`gradeflow try: ${(err as Error).message}\n`);
    return 2;
  }
  const config = loadConfig();
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const outcome = await tryGrading(new Dockerode(), config, request, abort.signal);
    const { spec, result, callbackBody } = outcome;
    process.stdout.write(opts.json ? `${JSON.stringify({ spec, result, callback_body: callbackBody }, null, 2)}\n` : describe(outcome));
    return result.success ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
