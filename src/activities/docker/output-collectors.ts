import type Dockerode from 'dockerode';
import { CappedOutput } from './capped-output';

/** One container's output, read by this process. */
export interface Collector {
  /** The output so far (the cap is enforced on it as it arrives). */
  output: CappedOutput;
  /** Settles when the output ends: the container exited, or was removed. */
  finished: Promise<void>;
  /** Once the container has exited: its whole output, capped. */
  complete(): Promise<CappedOutput>;
}

type Stream = NodeJS.ReadableStream & { destroy(): void };

function collect(container: Dockerode.Container, stream: Stream, limitBytes: number): { output: CappedOutput; finished: Promise<void> } {
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
  return { output, finished };
}

/** Docker's multiplexed log format, from a buffer: frames of [stream, 0, 0, 0, size (u32 BE)] + payload. */
function demux(buf: Buffer, into: CappedOutput): void {
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at + 4);
    const payload = buf.subarray(at + 8, at + 8 + size);
    into.add(buf[at] === 2 ? 'stderr' : 'stdout', payload);
    at += 8 + size;
  }
}

/**
 * The output of this host's containers. A container this process starts is attached to before it starts,
 * so every byte is read and the output cap holds from the first one. A container inherited from another
 * worker (a hand-over, a crash) is followed through its logs, and read once more in full after it exits,
 * because a log follower can miss the last lines of a container that exits at that moment.
 */
export class OutputCollectors {
  private readonly byContainer = new Map<string, { collector: Collector; stop(): void }>();

  /** Attach to a created container before starting it. */
  async attach(container: Dockerode.Container, limitBytes: number): Promise<Collector> {
    this.drop(container.id);
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Stream;
    const { output, finished } = collect(container, stream, limitBytes);
    return this.keep(container.id, { output, finished, complete: async () => output }, () => stream.destroy());
  }

  /** The collector of a container this process attached to, or one following the logs of an inherited one. */
  async for(container: Dockerode.Container, limitBytes: number): Promise<Collector> {
    const running = this.byContainer.get(container.id);
    if (running) return running.collector;
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as Stream;
    const { output, finished } = collect(container, stream, limitBytes);
    const complete = async (): Promise<CappedOutput> => {
      if (output.exceeded) return output;
      const all = (await container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
      const again = new CappedOutput(limitBytes, () => undefined);
      demux(all, again);
      return again;
    };
    return this.keep(container.id, { output, finished, complete }, () => stream.destroy());
  }

  private keep(id: string, collector: Collector, stop: () => void): Collector {
    this.byContainer.set(id, { collector, stop });
    return collector;
  }

  /** Stop reading and forget the output (the container was removed or handed over). */
  drop(containerId: string): void {
    this.byContainer.get(containerId)?.stop();
    this.byContainer.delete(containerId);
  }
}
