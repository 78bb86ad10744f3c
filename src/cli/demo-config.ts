import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * For `gradeflow dev` without GRADEFLOW_CONFIG: a config file in the data dir with one demo platform
 * (its key and callback secret generated once, kept across restarts) and a worker token.
 */
export function ensureDemoConfig(dataDir: string): { file: string; apiKey: string; callbackSecret: string } {
  const file = path.join(dataDir, 'demo-config.json');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const config = {
      workerToken: randomBytes(24).toString('base64url'),
      platforms: [
        {
          id: 'demo',
          apiKeys: [`gf_demo_${randomBytes(18).toString('base64url')}`],
          callbackSecret: `whsec_${randomBytes(32).toString('base64')}`,
          allowLoopbackCallbacks: true,
        },
      ],
    };
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { platforms: Array<{ apiKeys: string[]; callbackSecret: string }> };
  return { file, apiKey: parsed.platforms[0]!.apiKeys[0]!, callbackSecret: parsed.platforms[0]!.callbackSecret };
}
