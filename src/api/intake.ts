import type { GradeflowConfig, PlatformConfig } from '../config/schema';
import { callbackSchemeProblem, checkCallbackUrl } from '../security/callback-url';
import { parseImageReference } from '../security/image-reference';
import { imageRules, isImageAllowed } from '../security/image-policy';
import { reservedParamProblem } from '../security/param-names';
import { sha256Hex } from '../shared/sha256';
import type { GradingSettings, ResourceLimits } from '../shared/types';
import type { AssignmentSettings } from '../store/assignments';
import { isAbsent, isPlainObject } from './fields';
import { parseGradingFields, resolveGrading } from './grading-settings';
import { parseSubmissionLimits } from './submission-limits';
import { archiveKind, checkArchive } from '../archives/read-archive';
import { ArchiveRejected } from '../archives/safe-path';
import { ApiError, invalid } from './errors';
import { Problems } from './problems';

/** A submission as a platform sent it, before validation: every field as it arrived. */
export interface RawSubmission {
  image?: unknown;
  work_id?: unknown;
  callback?: unknown;
  params?: unknown;
  flavour?: unknown;
  assignment_id?: unknown;
  student_id?: unknown;
  course_id?: unknown;
  limits?: unknown;
  format?: unknown;
  results_file?: unknown;
  max_grade?: unknown;
  priority?: unknown;
  file?: { name: string; content: Buffer };
}

export interface ValidSubmission {
  image: string;
  workId?: string;
  callbackUrl?: string;
  params: Record<string, string>;
  flavour: string;
  assignmentId?: string;
  studentId?: string;
  courseId?: string;
  limits: Partial<ResourceLimits>;
  grading: GradingSettings;
  /** 1 (urgent) … 5. */
  priority: number;
  file: { name: string; sha256: string; content: Buffer };
}

const ID_RE = /^[\x21-\x7e]{1,200}$/; // printable ASCII, no spaces
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const FILE_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._ +-]{0,254}$/;
const MAX_PARAMS = 64;
const MAX_PARAM_VALUE = 4096;
// Control characters other than tab: a newline in a value reads as a second variable in `env`'s listing.
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** An id a platform chose (work, assignment, student, course): printable ASCII without spaces. */
export function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID_RE.test(value)) throw invalid(field, 'must be 1 to 200 printable characters without spaces');
  return value;
}

function optionalId(value: unknown, field: string): string | undefined {
  return isAbsent(value) ? undefined : checkId(value, field);
}

/** Correctomatic's `k1=v1,k2=v2` string, or an object of strings; they become the grader's environment. */
export function parseParams(value: unknown): Record<string, string> {
  if (isAbsent(value)) return {};
  let entries: Array<[string, unknown]>;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw invalid('params', 'looks like JSON but does not parse');
      }
      return parseParams(parsed);
    }
    entries = text.split(',').map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw invalid('params', `entry "${pair.trim()}" is not key=value`);
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1)];
    });
  } else if (isPlainObject(value)) {
    entries = Object.entries(value);
  } else {
    throw invalid('params', 'must be a "k1=v1,k2=v2" string or an object of strings');
  }
  if (entries.length > MAX_PARAMS) throw invalid('params', `has more than ${MAX_PARAMS} entries`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!ENV_NAME_RE.test(k)) throw invalid('params', `key "${k}" is not a valid environment variable name`);
    const reserved = reservedParamProblem(k);
    if (reserved) throw invalid('params', `key "${k}" ${reserved}`);
    const s = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    if (typeof s !== 'string' || s.length > MAX_PARAM_VALUE || CONTROL_RE.test(s)) {
      throw invalid('params', `value of "${k}" must be a string of at most ${MAX_PARAM_VALUE} characters without control characters (tab allowed)`);
    }
    out[k] = s;
  }
  return out;
}

/** A grader image reference (`image` of a submission or an assignment), by Docker's reference grammar. */
export function checkImage(value: unknown, field = 'image'): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'is required');
  if (!parseImageReference(value)) {
    throw invalid(field, 'is not a valid image reference ([registry[:port]/]path[:tag][@sha256:<hex>], lower-case path components)');
  }
  return value;
}

/**
 * An image this platform may run: a valid reference (400) that its `images` list allows (403). A bare
 * image id, or a name Docker would read as an id prefix, is allowed only as a listed digest.
 */
export function checkImageAllowed(value: unknown, platform: PlatformConfig, field = 'image'): string {
  const image = checkImage(value, field);
  const ref = parseImageReference(image)!;
  if (isImageAllowed(ref, imageRules(platform.images))) return image;
  const why =
    ref.kind === 'id'
      ? 'is an image id (or what Docker would read as an id prefix); name the image by repository, or by a digest the operator listed'
      : `is not among the images platform "${platform.id}" may run`;
  throw new ApiError(403, 'image_not_allowed', `${field} "${image}" ${why}`, field);
}

/** A priority: 1 (urgent) … 5, a number or (a form field) its digit; absent: the configured default. */
function checkPriority(value: unknown, fallback: number, field = 'priority'): number {
  if (isAbsent(value)) return fallback;
  const n = typeof value === 'string' && /^[1-5]$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 5) throw invalid(field, 'must be an integer from 1 (urgent) to 5');
  return n;
}

/** A flavour this configuration defines. */
export function checkFlavour(value: unknown, config: GradeflowConfig, field = 'flavour'): string {
  if (typeof value !== 'string' || !Object.hasOwn(config.flavours, value)) {
    throw invalid(field, `must be one of: ${Object.keys(config.flavours).join(', ')}`);
  }
  return value;
}

/**
 * Validate a submission; throws one ApiError listing every bad field (`fields`; the first decides the
 * status and code). Fields it leaves out are taken from its assignment's settings, when the platform has
 * set them. `problems` may hold refusals found while reading the body (unknown fields, malformed text):
 * they are answered together with these.
 */
export async function validateSubmission(
  raw: RawSubmission,
  platform: PlatformConfig,
  config: GradeflowConfig,
  assignment?: AssignmentSettings,
  problems = new Problems(),
): Promise<ValidSubmission> {
  // An assignment's stored image is checked again: the platform's list may have changed since it was set.
  const image = problems.check('image', () => checkImageAllowed(isAbsent(raw.image) && assignment?.image ? assignment.image : raw.image, platform));
  const flavour = problems.check('flavour', () => checkFlavour(isAbsent(raw.flavour) ? (assignment?.flavour ?? 'default') : raw.flavour, config));
  // Each grading field on its own, so that each bad one is named; then their consistency (results_file only with junit).
  const own = {
    ...problems.check('format', () => parseGradingFields({ format: raw.format })),
    ...problems.check('results_file', () => parseGradingFields({ results_file: raw.results_file })),
    ...problems.check('max_grade', () => parseGradingFields({ max_grade: raw.max_grade })),
  };
  const resolved = problems.has('format') ? undefined : problems.check('results_file', () => resolveGrading(own, assignment?.grading));
  const grading = resolved && { ...resolved, ...(assignment?.pullPolicy ? { pullPolicy: assignment.pullPolicy } : {}) };
  // The limits may only tighten the flavour's: without a known flavour they cannot be compared.
  const limits = flavour !== undefined ? problems.check('limits', () => parseSubmissionLimits(raw.limits, config.flavours[flavour]!)) : undefined;
  const callbackUrl = await problems.checkAsync('callback', () => checkCallback(raw.callback, platform));
  const file = await problems.checkAsync('file', () => checkFile(raw.file, config));
  const workId = problems.check('work_id', () => optionalId(raw.work_id, 'work_id'));
  const assignmentId = problems.check('assignment_id', () => optionalId(raw.assignment_id, 'assignment_id'));
  const studentId = problems.check('student_id', () => optionalId(raw.student_id, 'student_id'));
  const courseId = problems.check('course_id', () => optionalId(raw.course_id, 'course_id'));
  const params = problems.check('params', () => parseParams(raw.params));
  const priority = problems.check('priority', () => checkPriority(raw.priority, config.priorities.default));
  problems.throwIfAny();
  return {
    image: image!,
    flavour: flavour!,
    grading: grading!,
    params: params!,
    limits: limits!,
    priority: priority!,
    file: file!,
    ...(callbackUrl ? { callbackUrl } : {}),
    ...(workId ? { workId } : {}),
    ...(assignmentId ? { assignmentId } : {}),
    ...(studentId ? { studentId } : {}),
    ...(courseId ? { courseId } : {}),
  };
}

async function checkCallback(value: unknown, platform: PlatformConfig): Promise<string | undefined> {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string' || value.length > 2048) throw invalid('callback', 'must be a URL');
  const problem = callbackSchemeProblem(value, platform) ?? (await checkCallbackUrl(value, platform.allowLoopbackCallbacks));
  if (problem) throw invalid('callback', problem);
  return value;
}

async function checkFile(file: RawSubmission['file'], config: GradeflowConfig): Promise<ValidSubmission['file']> {
  if (!file) throw invalid('file', 'is required');
  const name = file.name;
  if (!FILE_NAME_RE.test(name) || name.includes('..')) {
    throw invalid('file', 'name must be a plain file name (letters, digits, ". _ + -", no path)');
  }
  if (file.content.length > config.api.maxFileBytes) {
    throw invalid('file', `is larger than the limit of ${config.api.maxFileBytes} bytes`);
  }
  const kind = archiveKind(name);
  if (kind) {
    await checkArchive(kind, file.content, config.archives).catch((err: unknown) => {
      if (err instanceof ArchiveRejected) throw new ApiError(400, 'invalid_archive', `file ${err.message}`, 'file');
      throw err;
    });
  }
  return { name, content: file.content, sha256: sha256Hex(file.content) };
}
