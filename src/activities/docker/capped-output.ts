import { Writable } from 'node:stream';
import { excerptOf, sanitizeText } from '../../results/output-excerpt';
import type { OutputExcerpt } from '../../shared/types';

/**
 * Collects a container's stdout and stderr while it runs, never holding more than `limitBytes` in total.
 * Past the limit it drops the rest and calls `onLimit` once, so the caller can stop the container.
 */
export class CappedOutput {
  private readonly chunks: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  private readonly seen = { stdout: 0, stderr: 0 };
  private kept = 0;
  exceeded = false;

  constructor(
    private readonly limitBytes: number,
    private readonly onLimit: () => void,
  ) {}

  writable(stream: 'stdout' | 'stderr'): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.add(stream, chunk);
        done();
      },
    });
  }

  add(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    this.seen[stream] += chunk.length;
    const room = this.limitBytes - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks[stream].push(part);
      this.kept += part.length;
    }
    if (chunk.length > room && !this.exceeded) {
      this.exceeded = true;
      this.onLimit();
    }
  }

  /** Full kept text of a stream (for parsing), with invalid UTF-8 replaced and NUL bytes removed. */
  text(stream: 'stdout' | 'stderr'): string {
    return sanitizeText(Buffer.concat(this.chunks[stream]).toString('utf8'));
  }

  excerpt(stream: 'stdout' | 'stderr'): OutputExcerpt {
    return excerptOf(Buffer.concat(this.chunks[stream]), this.seen[stream]);
  }
}
