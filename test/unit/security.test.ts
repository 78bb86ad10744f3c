import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, webhookId } from '../../src/activities/callback/sign';
import { checkCallbackUrl, forbiddenAddress } from '../../src/security/callback-url';
import { parseParams } from '../../src/api/intake';
import { loadConfig } from '../../src/config/load';
import { ensureDemoConfig } from '../../src/cli/demo-config';
import { reservedParamProblem } from '../../src/security/param-names';

describe('callback URL guard', () => {
  it.each(['10.1.2.3', '192.168.0.1', '172.16.5.5', '169.254.169.254', '0.0.0.0', '::ffff:10.0.0.1', 'fe80::1', 'fc00::1', '100.64.0.1'])(
    'refuses %s', (ip) => expect(forbiddenAddress(ip, true)).toBeDefined(),
  );
  it('allows public addresses, and loopback only when asked', () => {
    expect(forbiddenAddress('93.184.216.34', false)).toBeUndefined();
    expect(forbiddenAddress('127.0.0.1', false)).toBeDefined();
    expect(forbiddenAddress('127.0.0.1', true)).toBeUndefined();
    expect(forbiddenAddress('::1', true)).toBeUndefined();
  });
  it('refuses credentials, other schemes and names that resolve to loopback', async () => {
    expect(await checkCallbackUrl('http://u:p@93.184.216.34/', false)).toMatch(/credentials/);
    expect(await checkCallbackUrl('file:///etc/passwd', false)).toMatch(/http/);
    expect(await checkCallbackUrl('http://localhost:9/', false)).toMatch(/forbidden/);
    expect(await checkCallbackUrl('http://[::1]:9/', true)).toBeUndefined();
  });
});

describe('Standard Webhooks signature', () => {
  it('verifies with the reference verifier and keeps one id per attempt', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = JSON.stringify({ success: true });
    const headers = signWebhook(secret, webhookId('s1', 2), body);
    expect(headers['webhook-id']).toBe('msg_s1_2');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ success: true });
    expect(() => new Webhook(secret).verify(body + ' ', { ...headers })).toThrow();
  });
});

describe('params', () => {
  it('parses correctomatic strings and objects', () => {
    expect(parseParams('a=1,B_2=x=y')).toEqual({ a: '1', B_2: 'x=y' });
    expect(parseParams({ N: 3 })).toEqual({ N: '3' });
    expect(parseParams('{"K":"v"}')).toEqual({ K: 'v' });
    expect(() => parseParams('1bad=2')).toThrow(/params/);
  });

  // Every name the attack report set (rows 99-100, 217-218), and the rest of the families the rule names.
  const REFUSED = [
    'PATH', 'LD_PRELOAD', 'HOME', 'LD_LIBRARY_PATH', 'BASH_ENV', 'ENV', 'PYTHONPATH', 'NODE_OPTIONS', 'RESULTS_FILE',
    'SUBMISSION_FILE', 'SUBMISSION_DIR', 'SUBMISSION_NAME', 'submission_file', 'Results_File', 'GRADEFLOW_TOKEN', 'gradeflow_x',
    'LD_AUDIT', 'GCONV_PATH', 'GLIBC_TUNABLES', 'MALLOC_CHECK_', 'LOCPATH', 'NLSPATH', 'HOSTALIASES', 'RES_OPTIONS', 'LOCALDOMAIN',
    'BASH_FUNC_x', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'IFS', 'CDPATH', 'GLOBIGNORE', 'PROMPT_COMMAND', 'TMPDIR', 'SHELL', 'USER',
    'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONWARNINGS', 'PYTEST_ADDOPTS', 'PYTEST_PLUGINS', 'NODE_PATH', 'npm_config_node_options',
    'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL_MB_OPT', 'RUBYOPT', 'RUBYLIB', 'GEM_HOME', 'BUNDLE_GEMFILE',
    'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'JAVA_HOME', 'JAVA_OPTS', 'R_PROFILE_USER', 'PHPRC',
    'PHP_INI_SCAN_DIR', 'LUA_INIT', 'GOFLAGS', 'GODEBUG', 'GOROOT', 'DOTNET_STARTUP_HOOKS', 'COMPlus_EnableDiagnostics',
    'CORECLR_PROFILER_PATH', 'OPENSSL_CONF', 'SSL_CERT_FILE', 'GIT_SSH_COMMAND', 'GIT_DIR', 'PAGER', 'EDITOR', 'LESSOPEN',
    'XDG_CONFIG_HOME', 'MAKEFLAGS', 'MPLBACKEND', 'CGO_LDFLAGS', 'RUSTC_WRAPPER', 'ASAN_OPTIONS', 'TERMINFO',
  ];
  it.each(REFUSED)('refuses the param name %s, naming it', (name) => {
    expect(reservedParamProblem(name)).toMatch(/reserved/);
    expect(() => parseParams({ [name]: 'x' })).toThrow(new RegExp(`params key "${name}" is reserved`));
    expect(() => parseParams(`OK=1,${name}=/submission`)).toThrow(new RegExp(`"${name}"`));
  });

  it.each(['TESTS', 'LEVEL', 'lang', 'LANG', 'LC_ALL', 'TZ', 'MODE', 'MY_PARAM', 'TARGET', 'MAX_SCORE', 'CC', 'CFLAGS', 'GOAL', 'path', 'home', 'Pythonic', 'ld_level', 'NODES', 'R2', 'K0'])(
    'accepts the ordinary param name %s',
    (name) => {
      expect(reservedParamProblem(name)).toBeUndefined();
      expect(parseParams({ [name]: 'v' })).toEqual({ [name]: 'v' });
    },
  );

  it('refuses control characters in values: a newline would read as a second variable in `env`', () => {
    expect(() => parseParams({ MULTI: 'line1\nSUBMISSION_FILE=/etc/passwd' })).toThrow(/value of "MULTI"/);
    expect(() => parseParams({ A: 'x\ry' })).toThrow(/value of "A"/);
    expect(() => parseParams({ A: 'x\u0000' })).toThrow(/value of "A"/);
    expect(parseParams({ A: 'tab\there, unicode ✓' })).toEqual({ A: 'tab\there, unicode ✓' });
  });
});

describe('configuration', () => {
  it('fills defaults and names a bad field', () => {
    const c = loadConfig({});
    expect(c.api.port).toBe(3000);
    expect(c.flavours.default).toMatchObject({ memoryMb: 256, timeLimitSeconds: 60 });
    expect(() => loadConfig({ GRADEFLOW_API_PORT: 'abc' })).toThrow(/GRADEFLOW_API_PORT/);
    expect(() => loadConfig({}, { flavours: { default: { memoryMb: 'lots' } } } as never)).toThrow(/flavours\.default\.memoryMb/);
    expect(() =>
      loadConfig({}, { platforms: [{ id: 'x', apiKeys: ['k'.repeat(20)], callbackSecret: 'nope', images: ['*'] }] } as never),
    ).toThrow(/platforms\[0\]\.callbackSecret/);
  });

  it("requires every platform's images, and checks each entry", () => {
    const platform = { id: 'x', apiKeys: ['k'.repeat(20)], callbackSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
    expect(() => loadConfig({}, { platforms: [platform] } as never)).toThrow(/config field "platforms\[0\]\.images" is required/);
    expect(() => loadConfig({}, { platforms: [{ ...platform, images: [] }] } as never)).toThrow(/platforms\[0\]\.images/);
    expect(() => loadConfig({}, { platforms: [{ ...platform, images: ['gradeflow/*', 'gradeflow/x:1'] }] } as never)).toThrow(
      /platforms\[0\]\.images\[1\].*tag/,
    );
    expect(loadConfig({}, { platforms: [{ ...platform, images: ['gradeflow/*', `sha256:${'a'.repeat(64)}`] }] } as never).platforms[0]!.images).toHaveLength(2);
  });

  it('accepts the example deployment config', () => {
    const c = loadConfig({ GRADEFLOW_CONFIG: path.resolve(__dirname, '../../deploy/config.example.json') });
    expect(c.flavours.sandboxed).toMatchObject({ runtime: 'runsc', allowRoot: false });
    expect(c.archives.maxEntries).toBe(10000);
    expect(c.platforms[0]!.images.length).toBeGreaterThan(0);
  });

  it('gives the dev demo platform its images, also in a file written before they were required', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-demo-'));
    try {
      const fresh = ensureDemoConfig(dir);
      expect(fresh.images).toEqual(['gradeflow/example-*']);
      expect(loadConfig({ GRADEFLOW_CONFIG: fresh.file }).platforms[0]!.images).toEqual(['gradeflow/example-*']);
      const old = JSON.parse(readFileSync(fresh.file, 'utf8')) as { platforms: Array<Record<string, unknown>> };
      delete old.platforms[0]!.images;
      writeFileSync(fresh.file, JSON.stringify(old));
      expect(ensureDemoConfig(dir)).toMatchObject({ apiKey: fresh.apiKey, images: ['gradeflow/example-*'] });
      expect(loadConfig({ GRADEFLOW_CONFIG: fresh.file }).platforms[0]!.images).toEqual(['gradeflow/example-*']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
