import { DEFAULT_JUNIT_FILE, GRADESCOPE } from '../results/container-layout';
import { checkResultsFilePath } from '../results/results-file';
import type { FormatChoice, GradingSettings } from '../shared/types';
import { invalid } from './errors';
import { isAbsent } from './fields';

export const FORMAT_CHOICES = ['auto', 'correctomatic', 'gitlab', 'gradescope', 'junit', 'tap'] as const satisfies readonly FormatChoice[];

/** The API's grading fields as they arrived (a submission's, or an assignment's defaults). */
export interface RawGradingFields {
  format?: unknown;
  results_file?: unknown;
  max_grade?: unknown;
}

/** A decimal number as text: digits, an optional fraction and exponent. */
const DECIMAL_RE = /^\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Validated fields, only those given (so an assignment's defaults can fill the rest). */
export function parseGradingFields(raw: RawGradingFields, prefix = ''): Partial<GradingSettings> {
  const out: Partial<GradingSettings> = {};
  if (!isAbsent(raw.format)) {
    if (typeof raw.format !== 'string' || !(FORMAT_CHOICES as readonly string[]).includes(raw.format)) {
      throw invalid(`${prefix}format`, `must be one of: ${FORMAT_CHOICES.join(', ')}`);
    }
    out.format = raw.format as FormatChoice;
  }
  if (!isAbsent(raw.results_file)) {
    const problem = checkResultsFilePath(raw.results_file);
    if (problem) throw invalid(`${prefix}results_file`, problem);
    out.resultsFile = raw.results_file as string;
  }
  if (!isAbsent(raw.max_grade)) {
    // A form field is text: decimal only (Number() would also read "0x10" as 16, "0b1" as 1).
    const n = typeof raw.max_grade === 'string' ? (DECIMAL_RE.test(raw.max_grade) ? Number(raw.max_grade) : NaN) : raw.max_grade;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 1e9) throw invalid(`${prefix}max_grade`, 'must be a number above 0');
    out.maxGrade = n;
  }
  return out;
}

/** A submission's settings: its own fields, then its assignment's, then `auto`. */
export function resolveGrading(own: Partial<GradingSettings>, assignment: Partial<GradingSettings> = {}): GradingSettings {
  const format = own.format ?? assignment.format ?? 'auto';
  const resultsFile = own.resultsFile ?? (own.format === undefined || own.format === assignment.format ? assignment.resultsFile : undefined);
  const maxGrade = own.maxGrade ?? assignment.maxGrade;
  if (resultsFile !== undefined && format !== 'junit') {
    throw invalid('results_file', `applies to format junit only (gradescope's is ${GRADESCOPE.resultsFile}; stdout formats have none)`);
  }
  return {
    format,
    ...(format === 'junit' ? { resultsFile: resultsFile ?? DEFAULT_JUNIT_FILE } : {}),
    ...(maxGrade !== undefined ? { maxGrade } : {}),
  };
}
