import type Dockerode from 'dockerode';
import { ensureDocker } from '../setup/docker';
import { ensureImages, EXAMPLE_IMAGE_TAGS } from '../setup/images';
import { say } from '../setup/paths';

/** The grader images every cluster daemon gets. */
const GRADER_IMAGES = Object.values(EXAMPLE_IMAGE_TAGS);

let source: Promise<Dockerode> | undefined;

/**
 * Give a new (empty) cluster daemon the grader images. For now: built on the machine's default daemon
 * (DOCKER_HOST's, from examples/) and copied over with `docker save | docker load`, only the missing ones.
 * TODO(step 7, registry): the images come from the cluster's registry (`startRegistry()` of
 * src/setup/registry.ts): push once, pull on each daemon. This is the one place to change.
 */
export async function provideGraderImages(target: Dockerode): Promise<void> {
  const missing: string[] = [];
  for (const tag of GRADER_IMAGES) {
    const present = await target.getImage(tag).inspect().then(() => true, () => false);
    if (!present) missing.push(tag);
  }
  if (!missing.length) return;
  source ??= ensureDocker().then(async (docker) => {
    await ensureImages(docker);
    return docker;
  });
  const from = await source;
  say(`copying ${missing.length} grader image(s) into the daemon…`);
  // GET /images/get?names=…: one tarball of several images (dockerode has it; its types do not).
  const saver = from as unknown as { getImages(opts: { names: string[] }): Promise<NodeJS.ReadableStream> };
  const tarball = await saver.getImages({ names: missing });
  const out = (await target.loadImage(tarball, { quiet: true })) as NodeJS.ReadableStream;
  const events = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
    target.modem.followProgress(out, (err, res) => (err ? reject(err) : resolve(res as Array<{ error?: string }>))),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`loading grader images failed: ${failed.error}`);
}
