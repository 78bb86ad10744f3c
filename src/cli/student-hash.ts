import { loadConfig } from '../config/load';
import { SA } from '../shared/search-attributes';
import { studentHash, studentHashKey } from '../privacy/student-hash';

/**
 * `gradeflow student-hash <platform> <student_id>`: the value the GradeflowStudent search attribute holds
 * for this student (with the server's config: GRADEFLOW_CONFIG and the environment), and the Temporal UI
 * query that lists their gradings. `--json`: `{platform, student_hash, query}`.
 */
export function runStudentHash(platformId: string, studentId: string, opts: { json?: boolean }): void {
  const config = loadConfig();
  const platform = config.platforms.find((p) => p.id === platformId);
  if (!platform) throw new Error(`no platform "${platformId}" in the config (platforms: ${config.platforms.map((p) => p.id).join(', ') || 'none'})`);
  const value = platform.studentIds === 'plain' ? studentId : studentHash(studentHashKey(config), platformId, studentId);
  const query = `${SA.platform.name} = ${JSON.stringify(platformId)} AND ${SA.student.name} = ${JSON.stringify(value)}`;
  if (opts.json) process.stdout.write(`${JSON.stringify({ platform: platformId, student_hash: value, query })}\n`);
  else process.stdout.write(`${value}\n# Temporal UI / temporal workflow list --query:\n${query}\n`);
}
