import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkImage, checkImageAllowed } from '../../src/api/intake';
import { ApiError } from '../../src/api/errors';
import type { PlatformConfig } from '../../src/config/schema';
import { parseImageReference } from '../../src/security/image-reference';
import { compileImageRules, imageEntryProblem, imageIdentityProblem, isImageAllowed } from '../../src/security/image-policy';

const HEX = 'a3'.repeat(32);
const OTHER_HEX = '5c'.repeat(32);

describe('image reference grammar', () => {
  it.each([
    'gradeflow/example-sum:1',
    'ubuntu',
    'ubuntu:22.04',
    'library/ubuntu:latest',
    `localhost:5000/a/b@sha256:${HEX}`,
    `localhost:5000/a/b:tag@sha256:${HEX}`,
    '127.0.0.1:5000/x:y',
    'registry.example.edu:5000/cs101/grader:2024-fall',
    'docker.io/library/python:3.11',
    'a__b/c.d/e-f---g:_T.a-g',
    'Registry.Example.EDU/x',
    '[::1]:5000/x:y',
    'a/b/c/d/e:1',
    `x:${'t'.repeat(128)}`,
    `${'g'.repeat(255)}`,
  ])('accepts %s', (ref) => {
    expect(parseImageReference(ref)?.kind).toBe('named');
    expect(checkImage(ref)).toBe(ref);
  });

  it.each([
    '../etc:1',
    './x',
    'UPPER/Case:1',
    'Upper',
    'a//b',
    '/a',
    'a/',
    '-x',
    '--privileged',
    'x-',
    'a..b',
    'a._b',
    'a___b',
    'a:',
    'a:-tag',
    `a:${'t'.repeat(129)}`,
    `${'g'.repeat(256)}`,
    'a@sha256:abc',
    `a@sha256:${HEX.toUpperCase()}`,
    `a@md5:${HEX}`,
    'a b',
    'a\nb',
    'a:1:2',
    'http://x/y',
    'x/y:1@',
    `${HEX}:1`,
    'registry-.example.edu/x',
    'localhost:port/x',
    '',
  ])('refuses %j', (ref) => {
    expect(parseImageReference(ref)).toBeUndefined();
    expect(() => checkImage(ref)).toThrow(/image/);
  });

  it('normalizes names as Docker does', () => {
    expect(parseImageReference('ubuntu')).toEqual({ kind: 'named', repository: 'docker.io/library/ubuntu' });
    expect(parseImageReference('gradeflow/x:1')).toEqual({ kind: 'named', repository: 'docker.io/gradeflow/x', tag: '1' });
    expect(parseImageReference('index.docker.io/gradeflow/x')).toMatchObject({ repository: 'docker.io/gradeflow/x' });
    expect(parseImageReference('localhost/x')).toMatchObject({ repository: 'localhost/x' });
    expect(parseImageReference('localhost:5000')).toEqual({ kind: 'named', repository: 'docker.io/library/localhost', tag: '5000' });
    expect(parseImageReference(`x@sha256:${HEX}`)).toMatchObject({ digest: `sha256:${HEX}` });
  });

  it('knows which strings Docker reads as an image id or id prefix', () => {
    expect(parseImageReference(HEX)).toEqual({ kind: 'id', digest: `sha256:${HEX}` });
    expect(parseImageReference(`sha256:${HEX}`)).toEqual({ kind: 'id', digest: `sha256:${HEX}` });
    for (const short of ['abcdef123456', 'a3a3', 'cafe', 'sha256:a3a3a3', 'sha256:abc']) {
      expect(parseImageReference(short)).toEqual({ kind: 'id' });
    }
    // With a tag, a path or a digest it is a name again.
    expect(parseImageReference('cafe:1')?.kind).toBe('named');
    expect(parseImageReference('library/cafe')?.kind).toBe('named');
  });

  const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((c) => c.length <= 40);
  const tag = fc.stringMatching(/^\w[\w.-]{0,20}$/);

  it('accepts every reference the grammar generates (property)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom('localhost', 'localhost:5000', 'registry.example.edu', '10.0.0.1:443', 'r.io'), { nil: undefined }),
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fc.option(tag, { nil: undefined }),
        fc.boolean(),
        (domain, path, t, pinned) => {
          const name = [...(domain ? [domain] : []), ...path].join('/');
          fc.pre(name.length <= 255 && !/^(?:sha(?:256|384|512):)?[a-f0-9]+$/.test(name + (t ? `:${t}` : '')));
          // A first component with a "." is a registry, which has no "_" (we refuse what Docker half-accepts).
          fc.pre(domain !== undefined || path.length === 1 || !path[0]!.includes('.'));
          const ref = `${name}${t ? `:${t}` : ''}${pinned ? `@sha256:${HEX}` : ''}`;
          expect(parseImageReference(ref)?.kind).toBe('named');
        },
      ),
    );
  });

  it('never accepts upper case in the path, empty components, "..", or a leading separator (property)', () => {
    fc.assert(
      fc.property(component, component, fc.constantFrom('A', '//', '/..', '/-', '/.', '/_', '-/', ' ', '\t', '@'), (a, b, bad) => {
        const ref = `x/${a}${bad}${b}`;
        expect(parseImageReference(ref)).toBeUndefined();
      }),
    );
  });

  it('is total and never throws on arbitrary input (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 700 }), (s) => void parseImageReference(s)));
  });
});

describe('image allowlist', () => {
  const rules = compileImageRules(['gradeflow/example-*', 'registry.example.edu:5000/cs101/*', 'ubuntu', `sha256:${HEX}`]);
  const allowed = (ref: string) => isImageAllowed(parseImageReference(ref)!, rules);

  it('matches repository patterns on the normalized name, any tag', () => {
    expect(allowed('gradeflow/example-sum:1')).toBe(true);
    expect(allowed('docker.io/gradeflow/example-pytest:1')).toBe(true);
    expect(allowed('index.docker.io/gradeflow/example-x')).toBe(true);
    expect(allowed('registry.example.edu:5000/cs101/grader:2')).toBe(true);
    expect(allowed('registry.example.edu:5000/cs101/a/b:2')).toBe(true);
    expect(allowed('ubuntu:22.04')).toBe(true);
    expect(allowed('docker.io/library/ubuntu')).toBe(true);
  });

  it('refuses other repositories, registries and namespaces', () => {
    expect(allowed('gradeflow/python:3.11')).toBe(false);
    expect(allowed('gradeflow-test/script-runner:1')).toBe(false);
    expect(allowed('evil.io/gradeflow/example-sum:1')).toBe(false);
    expect(allowed('registry.example.edu/cs101/grader:2')).toBe(false);
    expect(allowed('registry.example.edu:5000/cs102/grader:2')).toBe(false);
    expect(allowed('someone/ubuntu')).toBe(false);
    expect(allowed('ubuntux')).toBe(false);
  });

  it('allows bare ids and pinned references only by a listed digest', () => {
    expect(allowed(HEX)).toBe(true);
    expect(allowed(`sha256:${HEX}`)).toBe(true);
    expect(allowed(`anything/else@sha256:${HEX}`)).toBe(true);
    expect(allowed(OTHER_HEX)).toBe(false);
    expect(allowed(`sha256:${OTHER_HEX}`)).toBe(false);
    expect(allowed(HEX.slice(0, 12))).toBe(false);
    expect(allowed(`sha256:${HEX.slice(0, 12)}`)).toBe(false);
    expect(allowed(`gradeflow/example-sum@sha256:${OTHER_HEX}`)).toBe(true); // by its repository
    expect(allowed(`gradeflow/python@sha256:${OTHER_HEX}`)).toBe(false);
  });

  it('"*" allows every repository, never an image id', () => {
    const any = compileImageRules(['*']);
    expect(isImageAllowed(parseImageReference('whatever/x:1')!, any)).toBe(true);
    expect(isImageAllowed(parseImageReference('localhost:5000/x')!, any)).toBe(true);
    expect(isImageAllowed(parseImageReference(HEX)!, any)).toBe(false);
    expect(isImageAllowed(parseImageReference('abcdef123456')!, any)).toBe(false);
  });

  it('a wildcard matches the normalized name; official images need library/', () => {
    const r = compileImageRules(['docker.io/*', 'library/py*']);
    expect(isImageAllowed(parseImageReference('someone/x')!, r)).toBe(true);
    expect(isImageAllowed(parseImageReference('localhost/x')!, r)).toBe(false);
    const py = compileImageRules(['library/py*']);
    expect(isImageAllowed(parseImageReference('python:3')!, py)).toBe(true);
    expect(isImageAllowed(parseImageReference('pypy/x')!, py)).toBe(false);
  });

  it.each([
    ['gradeflow/x:1', /tag/],
    ['gradeflow/x@sha256:' + HEX, /digest/],
    ['sha256:abc', /digest/],
    ['*.example.edu/x', /registry/],
    ['Bad/Case', /repository name/],
    ['../etc', /repository name/],
    ['a//*', /repository name/],
  ])('refuses the config entry %s', (entry, why) => {
    expect(imageEntryProblem(entry)).toMatch(why);
    expect(() => compileImageRules(['gradeflow/*', entry])).toThrow(/"/);
  });

  it('never lets a pattern match a repository on another registry (property)', () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:-[a-z0-9]+)*$/).filter((c) => c.length > 0 && c.length < 20);
    fc.assert(
      fc.property(component, component, (a, b) => {
        const r = compileImageRules([`${a}/*`]);
        expect(isImageAllowed(parseImageReference(`${a}/${b}`)!, r)).toBe(true);
        expect(isImageAllowed(parseImageReference(`evil.io/${a}/${b}`)!, r)).toBe(false);
        expect(isImageAllowed(parseImageReference(`localhost:5000/${a}/${b}`)!, r)).toBe(false);
      }),
    );
  });

  const platform = (images: string[]): PlatformConfig => ({ id: 'p2', apiKeys: ['k'.repeat(16)], callbackSecret: 'whsec_x', allowLoopbackCallbacks: false, images });

  const caught = (fn: () => unknown): ApiError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      return e as ApiError;
    }
    throw new Error('did not throw');
  };

  it('intake: 403 image_not_allowed for a valid reference outside the list, 400 for an invalid one', () => {
    const p = platform(['gradeflow/example-*']);
    expect(checkImageAllowed('gradeflow/example-sum:1', p)).toBe('gradeflow/example-sum:1');
    for (const refused of ['redteam/runner:1', HEX, `sha256:${HEX}`, 'abcdef123456', 'sha256:abcd']) {
      const err = caught(() => checkImageAllowed(refused, p));
      expect(err.statusCode).toBe(403);
      expect(err.toBody()).toMatchObject({ error: { code: 'image_not_allowed', field: 'image' } });
    }
    const bad = caught(() => checkImageAllowed('../etc:1', p));
    expect(bad.statusCode).toBe(400);
    expect(bad.toBody()).toMatchObject({ error: { code: 'invalid_field', field: 'image' } });
  });
});

describe('the grading host checks the image Docker found is the one named', () => {
  const inspected = { Id: `sha256:${HEX}`, RepoTags: ['gradeflow/example-sum:1', 'localhost:5000/a/b:2'], RepoDigests: [`localhost:5000/a/b@sha256:${OTHER_HEX}`] };

  it('accepts a tag of the image, in any spelling Docker normalizes alike', () => {
    for (const ok of ['gradeflow/example-sum:1', 'docker.io/gradeflow/example-sum:1', 'localhost:5000/a/b:2', `localhost:5000/a/b@sha256:${OTHER_HEX}`, `sha256:${HEX}`, HEX]) {
      expect(imageIdentityProblem(ok, inspected)).toBeUndefined();
    }
  });

  it('refuses a name Docker resolved as an id prefix, another tag, or an invalid reference', () => {
    expect(imageIdentityProblem(HEX.slice(0, 12), inspected)).toMatch(/id prefix/);
    expect(imageIdentityProblem(`sha256:${HEX.slice(0, 6)}`, inspected)).toMatch(/id prefix/);
    expect(imageIdentityProblem('gradeflow/example-sum', inspected)).toMatch(/not a name of the image/); // :latest
    expect(imageIdentityProblem(`sha256:${OTHER_HEX}`, inspected)).toMatch(/image id/);
    expect(imageIdentityProblem(`localhost:5000/a/b@sha256:${HEX}`, inspected)).toMatch(/not a name/);
    expect(imageIdentityProblem('../etc:1', inspected)).toMatch(/not a valid/);
  });
});
