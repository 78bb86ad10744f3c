import type { GradeflowConfig } from '../config/schema';
import type { KeywordAttribute } from '../shared/activity-contracts';
import { SA } from '../shared/search-attributes';
import { studentHash, studentHashKey } from './student-hash';

/** Rewrites a submission's search attributes by its platform's privacy settings. */
export type SearchAttributePrivacy = (platformId: string, attributes: KeywordAttribute[]) => KeywordAttribute[];

/**
 * Search attributes are stored unencrypted in Temporal's visibility store and shown to anyone who can list
 * workflows, so personal data stays out of them: `GradeflowStudent` holds the student id's keyed hash unless
 * the platform says `studentIds: "plain"`, and `GradeflowWorkId` is left out for a platform whose workflows
 * are named by gradeflow's id (`workflowIds: "gradeflow_id"`: its work_ids may carry names). The key is read
 * once, here, and only when some platform hashes.
 */
export function createSearchAttributePrivacy(config: GradeflowConfig): SearchAttributePrivacy {
  const platforms = new Map(config.platforms.map((p) => [p.id, p]));
  const hashes = config.platforms.some((p) => (p.studentIds ?? 'hashed') === 'hashed');
  const key = hashes ? studentHashKey(config) : undefined;
  return (platformId, attributes) => {
    const platform = platforms.get(platformId);
    const plain = platform?.studentIds === 'plain';
    const hideWorkId = platform?.workflowIds === 'gradeflow_id';
    return attributes.flatMap((a) => {
      if (a.name === SA.workId.name && hideWorkId) return [];
      // No key (every known platform is plain, this one is not in the config): leave the id out.
      if (a.name === SA.student.name && !plain) return key ? [{ name: a.name, value: studentHash(key, platformId, a.value) }] : [];
      return [a];
    });
  };
}
