import Dockerode from 'dockerode';
import { ensureDocker } from '../../src/setup/docker';
import { ensureImages } from '../../src/setup/images';
import { BENCH_IMAGE } from '../../test/helpers/images';

/**
 * The one place where the cluster bench names its grader image and puts it on the grading hosts' daemons.
 * Built on the machine's default daemon and copied into each cluster daemon (`docker save | docker
 * load`) before the measurement, so that no pull from the cluster's registry (which holds only the example
 * graders) falls inside a measured round.
 */
export const CLUSTER_BENCH_IMAGE = BENCH_IMAGE.tag;

/** The platform's image allowlist in the cluster's config: the bench image and nothing else. */
export const CLUSTER_BENCH_IMAGE_PATTERN = 'gradeflow-bench/*';

export async function provideBenchImage(dockerHosts: string[]): Promise<void> {
  const source = await ensureDocker();
  await ensureImages(source, [BENCH_IMAGE]);
  for (const dockerHost of dockerHosts) {
    const target = new Dockerode({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
    if (await target.getImage(CLUSTER_BENCH_IMAGE).inspect().then(() => true, () => false)) continue;
    // GET /images/get?names=…: dockerode has it; its types do not.
    const saver = source as unknown as { getImages(opts: { names: string[] }): Promise<NodeJS.ReadableStream> };
    const tarball = await saver.getImages({ names: [CLUSTER_BENCH_IMAGE] });
    const out = (await target.loadImage(tarball, { quiet: true })) as NodeJS.ReadableStream;
    const events = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
      target.modem.followProgress(out, (err, res) => (err ? reject(err) : resolve(res as Array<{ error?: string }>))),
    );
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`loading ${CLUSTER_BENCH_IMAGE} into ${dockerHost} failed: ${failed.error}`);
  }
}
