import type { OutputExcerpt } from '../shared/types';

/** How much of each stream the result carries for the instructor (the parser sees up to the full cap). */
const EXCERPT_BYTES = 32 * 1024;

/** Text that JSON, PostgreSQL and a browser all accept: no NUL, no lone surrogates. */
export function sanitizeText(text: string): string {
  return text.replace(/\u0000/g, '\uFFFD').toWellFormed();
}

/** The start of a stream's bytes, as text, with how many bytes the stream had in all. */
export function excerptOf(bytes: Buffer, totalBytes: number): OutputExcerpt {
  const head = bytes.subarray(0, EXCERPT_BYTES);
  return { text: sanitizeText(head.toString('utf8')), bytes: totalBytes, truncated: totalBytes > head.length };
}
