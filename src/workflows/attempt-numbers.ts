import { ActivityFailure, ApplicationFailure, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { KeywordAttribute } from '../shared/activity-contracts';
import { ErrorTypes } from '../shared/error-types';
import { SA } from '../shared/search-attributes';
import type { GradeSubmissionInput } from '../shared/types';
import { storeWriteProxy } from './activity-options';

/**
 * Whether this run takes its attempt numbers from the database. Runs started before (their histories have
 * no marker) count on from `previousAttempts`, as they did.
 */
export function numbersFromDatabase(): boolean {
  return patched('attempts-from-database');
}

/**
 * An attempt number for this run's `slot`, from the database: the same one whenever this run asks again
 * (a replay, a retry), a new one above all the submission's earlier numbers for any other run. So a run
 * that an operator resets, or starts from the Temporal UI or CLI with an old run's input, never grades,
 * records or delivers under a number already used. A run started without gradeflow's search attributes
 * (the UI's "Start Workflow Like This One", a hand-made signal-with-start) gets them here.
 */
export async function allocateAttempt(input: GradeSubmissionInput, slot: string): Promise<number> {
  const { workflowId, runId } = workflowInfo();
  const allocation = await storeWriteProxy(`allocate attempt number (slot ${slot})`).allocateAttempt({
    submissionId: input.submissionId,
    workflowId,
    runId,
    slot,
  });
  addMissingSearchAttributes(allocation.searchAttributes);
  return allocation.attempt;
}

const KEYS = new Map(Object.values(SA).map((k) => [k.name, k]));

function addMissingSearchAttributes(fromDatabase: KeywordAttribute[]): void {
  const have = workflowInfo().typedSearchAttributes;
  if (have.get(SA.platform) !== undefined) return;
  const pairs = [...fromDatabase, { name: SA.phase.name, value: 'queued' }].flatMap(({ name, value }) => {
    const key = KEYS.get(name);
    return key && have.get(key) === undefined ? [{ key, value }] : [];
  });
  if (pairs.length) upsertSearchAttributes(pairs);
}

/** The record refused the attempt's number: another run recorded it (see `ErrorTypes.AttemptTaken`). */
export function attemptTaken(err: unknown): boolean {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.type === ErrorTypes.AttemptTaken;
}
