import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The images the demo platform may run: the example graders (edit the file to add your own). */
const DEMO_IMAGES = ['gradeflow/example-*'];

/**
 * For `gradeflow dev` without GRADEFLOW_CONFIG: a config file in the data dir with one demo platform
 * (its key and callback secret generated once, kept across restarts) and a worker token. A file written
 * before platforms had to list their images gets the demo's list.
 */
export function ensureDemoConfig(dataDir: string): { file: string; apiKey: string; callbackSecret: string; images: string[] } {
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
          images: DEMO_IMAGES,
        },
      ],
    };
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    platforms: Array<{ id: string; apiKeys: string[]; callbackSecret: string; images?: string[] }>;
  };
  const demo = parsed.platforms[0]!;
  if (parsed.platforms.length === 1 && demo.id === 'demo' && demo.images === undefined) {
    demo.images = DEMO_IMAGES;
    writeFileSync(file, `${JSON.stringify(parsed, null, 2)}\n`, { mode: 0o600 });
  }
  return { file, apiKey: demo.apiKeys[0]!, callbackSecret: demo.callbackSecret, images: demo.images ?? [] };
}
