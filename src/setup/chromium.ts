import { existsSync } from 'node:fs';
import { say } from './paths';
import { aptInstall, isRoot, which } from './run';

/**
 * A headless browser for the operator guide's screenshots of the Temporal UI (`npm run screenshots`) and
 * the test that takes them: Debian's `chromium`, installed once when missing (as root on Debian).
 */
export async function ensureChromium(): Promise<string> {
  const found = which('chromium');
  if (found) return found;
  if (!isRoot() || !existsSync('/etc/debian_version')) {
    throw new Error("screenshots of the Temporal UI need a Chromium browser: install Debian's chromium (apt-get install chromium)");
  }
  say("installing Debian's chromium (once, for the Temporal UI screenshots)…");
  await aptInstall(['chromium']);
  const installed = which('chromium');
  if (!installed) throw new Error('chromium was installed but is not on PATH');
  return installed;
}
