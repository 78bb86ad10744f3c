import type Dockerode from 'dockerode';
import { CappedOutput } from './capped-output';

/** One container's output, read by this process from the container's first byte. */
export interface Collector {
  output: CappedOutput;
  /** Settles when the output ends: the container exited, or was removed. */
  finished: Promise<void>;
}

/**
 * The output of this host's running containers, read from the moment each one starts (by the start
 * activity), so the output cap is enforced from the first byte and nothing is lost before the await
 * activity begins. The await activity takes over the same collector; a worker that inherits a container
 * from another process starts a new one, which re-reads the output from the beginning.
 */
export class OutputCollectors {
  private readonly byContainer = new Map<string, { collector: Collector; stop(): void }>();

  /** The running collector for this container, or a new one reading its output from the start. */
  async for(container: Dockerode.Container, limitBytes: number): Promise<Collector> {
    const running = this.byContainer.get(container.id);
    if (running) return running.collector;
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream & {
      destroy(): void;
    };
    const output = new CappedOutput(limitBytes, () => {
      container.kill().catch(() => undefined);
    });
    container.modem.demuxStream(stream, output.writable('stdout'), output.writable('stderr'));
    const finished = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    finished.catch(() => undefined); // whoever awaits it sees the error; nobody else must crash on it
    const entry = { collector: { output, finished }, stop: () => stream.destroy() };
    this.byContainer.set(container.id, entry);
    return entry.collector;
  }

  /** Stop reading and forget the output (the container was removed or handed over). */
  drop(containerId: string): void {
    this.byContainer.get(containerId)?.stop();
    this.byContainer.delete(containerId);
  }
}
