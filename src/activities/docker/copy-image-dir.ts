import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { IMAGE_COPY_DIR, type ContainerLayout } from '../../results/container-layout';
import { ErrorTypes } from '../../shared/error-types';
import { isDockerStatus } from './docker-status';

/**
 * Gradescope's graders write into /autograder (its `run_autograder` copies the submission into
 * /autograder/source). Docker fills a volume from the image, but a volume is bounded by nothing but the
 * host's disk; a tmpfs is bounded, but Docker never fills one (measured on Docker 20.10: a `local` volume
 * of type tmpfs comes up empty too). So the image's content of the writable root is read from the created,
 * not yet started container (the image's layers: no tmpfs is mounted yet) and put into an anonymous volume,
 * from which the container's first process copies it into the tmpfs (results-frame.ts). The submission
 * and results directories are gradeflow's own mounts: the image's content there is left out.
 */
export async function copyImageDir(container: Dockerode.Container, layout: ContainerLayout, limitBytes: number): Promise<void> {
  const root = layout.writableRoot;
  if (!root) return;
  let source: NodeJS.ReadableStream;
  try {
    source = await container.getArchive({ path: `${root}/.` });
  } catch (err) {
    if (isDockerStatus(err, 404)) return; // the image has no such directory: the tmpfs starts empty
    throw err;
  }
  const skipped = [layout.submissionDir, layout.resultsDir]
    .filter((d): d is string => d !== undefined && d.startsWith(`${root}/`))
    .map((d) => `./${d.slice(root.length + 1)}`);
  const extract = tar.extract();
  const pack = tar.pack();
  let bytes = 0;
  let tooLarge = false;
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/\/$/, '');
    if (skipped.some((d) => name === d || name.startsWith(`${d}/`))) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    bytes += header.size ?? 0;
    if (bytes > limitBytes) {
      tooLarge = true;
      extract.destroy(new Error('too large'));
      return;
    }
    stream.pipe(pack.entry(header, next));
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (err) => pack.destroy(err));
  source.pipe(extract);
  const chunks: Buffer[] = [];
  try {
    for await (const c of pack) chunks.push(c as Buffer);
  } catch (err) {
    if (tooLarge) {
      throw ApplicationFailure.nonRetryable(
        `the image's ${root} holds more than its writable copy's ${Math.round(limitBytes / 1048576)} MiB (the flavour's tmpfsMb)`,
        ErrorTypes.GraderRejected,
      );
    }
    throw err;
  }
  await container.putArchive(Buffer.concat(chunks), { path: IMAGE_COPY_DIR });
}

/** Put one file of gradeflow's (Gradescope's submission_metadata.json) with the image's copy: the entry script copies it into the writable root. */
export async function putImageCopyFile(container: Dockerode.Container, name: string, content: string): Promise<void> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await container.putArchive(Buffer.concat(chunks), { path: IMAGE_COPY_DIR });
}
