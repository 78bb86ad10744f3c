import { ensureDocker } from '../setup/docker';
import { ensureImages, EXAMPLE_IMAGE_TAGS } from '../setup/images';
import { say } from '../setup/paths';
import { pushImage, type RegistryAuth } from '../setup/registry';

/**
 * The cluster's grader images: the examples, built on the machine's default daemon (DOCKER_HOST's, from
 * examples/) and pushed once to the cluster's registry as `<registry>/gradeflow/example-sum:2` and so on.
 * The cluster's daemons start empty: a grading host pulls an image by digest the first time it needs it.
 */
export async function pushGraderImages(registry: string, auth: RegistryAuth): Promise<string[]> {
  const docker = await ensureDocker();
  await ensureImages(docker);
  const pushed: string[] = [];
  for (const tag of Object.values(EXAMPLE_IMAGE_TAGS)) {
    const target = `${registry}/${tag}`;
    say(`pushing ${tag} to the cluster registry as ${target}…`);
    await pushImage(docker, tag, target, auth);
    // The registry's name for it is not needed on this daemon: only the registry holds it.
    await docker
      .getImage(target)
      .remove({ noprune: true })
      .catch(() => undefined);
    pushed.push(target);
  }
  return pushed;
}
