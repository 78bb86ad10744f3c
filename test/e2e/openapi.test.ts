import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp, type AppDeps } from '../../src/api/app';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * Issue 18 points 1–2: the OpenAPI 3.1 document generated from the routes' schemas, checked by an
 * independent validator and against every route the application registers; one 400 listing every bad
 * field; the flavours and versions a platform can discover.
 */
const stack = useStack('openapi', {}, { host: false });

type Doc = Record<string, any>;

async function fetchJson(url: string, key?: string) {
  const res = await fetch(`${stack.server.url}${url}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, body: (await res.json()) as any };
}

/** Every route buildApp registers, as Fastify reports it (the onRoute hook), for this stack's configuration. */
async function registeredRoutes(): Promise<Array<{ method: string; url: string }>> {
  const seen: RouteOptions[] = [];
  const stub = {} as never;
  const app = await buildApp(
    { config: stack.config, store: stack.server.store, assignments: stub, search: stub, regrades: stub, graderFacts: stub, workflows: stub, owned: stub, starter: stub, actions: stub, results: stub, gitHooks: stub, health: {}, logger: false } satisfies AppDeps,
    { onRoute: (route) => void seen.push(route) },
  );
  await app.ready();
  await app.close();
  return seen.flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ method: String(method), url: r.url })));
}

describe('GET /v1/openapi.json', () => {
  it('is public and a valid OpenAPI 3.1 document by an independent validator, every $ref resolving', async () => {
    const { status, body } = await fetchJson('/v1/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(structuredClone(body)); // it resolves $refs in place
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 3000)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
    // The shared schemas are named components; the published ones are reused, not copied.
    for (const name of ['Error', 'FieldProblem', 'Submission', 'Attempt', 'Assignment', 'RegradeProgress', 'Flavour', 'grade-result', 'callback-body']) {
      expect(Object.keys(body.components.schemas), name).toContain(name);
    }
    expect(JSON.stringify(body.paths['/v1/submissions/{id}'].get.responses['200'])).toContain('#/components/schemas/Submission');
    expect(JSON.stringify(body.components.schemas.Submission)).toContain('#/components/schemas/grade-result');
    expect(body.webhooks.result.post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/callback-body');
  });

  it('documents every route the application registers, with its method, summary, security and answers', async () => {
    const doc = (await fetchJson('/v1/openapi.json')).body as Doc;
    // HEAD routes are Fastify's copies of GETs; OPTIONS /codec* is @fastify/cors's preflight (the browser's, not an API call).
    const routes = (await registeredRoutes()).filter((r) => r.method !== 'HEAD' && !(r.method === 'OPTIONS' && r.url === '/codec*'));
    expect(routes.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const { method, url } of routes) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[method.toLowerCase()];
      if (!op) {
        missing.push(`${method} ${url}`);
        continue;
      }
      expect(op.summary, `${method} ${url} summary`).toEqual(expect.any(String));
      expect(op.security, `${method} ${url} security`).toBeDefined();
      expect(Object.keys(op.responses ?? {}).length, `${method} ${url} responses`).toBeGreaterThan(0);
    }
    expect(missing, 'routes without a schema in the document').toEqual([]);
    // And nothing documented that is not a route.
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
    const registered = new Set(routes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`));
    expect(documented.filter((d) => !registered.has(d))).toEqual([]);
    // Platform routes name the bearer key; public ones need none.
    expect(doc.paths['/v1/submissions'].post.security).toEqual([{ platformKey: [] }]);
    expect(doc.paths['/v1/version'].get.security).toEqual([]);
    expect(doc.components.securitySchemes.platformKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys((doc.paths['/v1/submissions'].post as any).requestBody.content).sort()).toEqual(['application/json', 'multipart/form-data']);
    // A regrade's body may be left out; an assignment's may not.
    expect(doc.paths['/v1/submissions/{id}/regrade'].post.requestBody.required).toBe(false);
    expect(doc.paths['/v1/assignments/{id}'].put.requestBody.required).toBe(true);
  });
});

describe('one 400 lists every bad field', () => {
  const threeBad = { work_id: 'has a space', priority: 9, limits: { cpus: 'two' } };

  it('a JSON submission with 3 bad fields', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, ...threeBad, file: b64file('a.sh', 'echo') });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const error = (res.body as any).error;
    expect(error.code).toBe('invalid_field');
    expect(error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['limits.cpus', 'priority', 'work_id']);
    expect(error.field).toBe(error.fields[0].field);
    for (const f of error.fields) expect(f.message).toContain(f.field);
  });

  it('a multipart submission with 3 bad fields (an unknown one among them) and a missing file', async () => {
    const form = new FormData();
    form.set('image', SCRIPT_RUNNER);
    form.set('calback', 'http://127.0.0.1:9/x');
    form.set('student_id', 'with space');
    form.set('format', 'xml');
    const res = await stack.postForm(form);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const error = (res.body as any).error;
    expect(error.field).toBe('calback');
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual(['calback', 'format', 'file', 'student_id']);
  });

  it('a body refused by its route\'s schema (PUT /v1/assignments/{id}) with 3 bad fields', async () => {
    const res = await stack.request('PUT', '/v1/assignments/openapi-a1', { pull_policy: 'sometimes', format: 'xml', max_grade: -1, flavour: 'default' });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const error = (res.body as any).error;
    expect(error.code).toBe('invalid_field');
    expect(error.fields.map((f: { field: string }) => f.field)).toEqual(['pull_policy', 'format', 'max_grade']);
    expect(error.field).toBe('pull_policy');
    expect(error.fields[0].message).toBe('pull_policy must be one of: if-missing, always, never');
  });

  it('a query refused by its route\'s schema (GET /v1/submissions) with 3 bad fields', async () => {
    const res = await stack.request('GET', '/v1/submissions?limit=0&status=lost&colour=red');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    const fields = (res.body as any).error.fields.map((f: { field: string }) => f.field).sort();
    expect(fields).toEqual(['colour', 'limit', 'status']);
  });

  it('a good request still passes (a query of integers as text, a body of defaults)', async () => {
    expect((await stack.request('GET', '/v1/submissions?limit=2')).status).toBe(200);
    const put = await stack.request('PUT', '/v1/assignments/openapi-a2', { pull_policy: 'always', format: 'tap', max_grade: '10', image: null });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect(put.body).toMatchObject({ pull_policy: 'always', format: 'tap', max_grade: 10, image: null });
  });
});

describe('discoverable limits and versions', () => {
  it('GET /v1/flavours needs a key and answers each flavour with its limits and task queue', async () => {
    expect((await fetchJson('/v1/flavours')).status).toBe(401);
    const { status, body } = await fetchJson('/v1/flavours', stack.apiKey);
    expect(status).toBe(200);
    const f = stack.config.flavours.default!;
    expect(body.flavours).toEqual([
      {
        name: 'default',
        limits: { cpus: f.cpus, memory_mb: f.memoryMb, pids: f.pids, time_limit_seconds: f.timeLimitSeconds, output_limit_bytes: f.outputLimitBytes, tmpfs_mb: f.tmpfsMb },
        runtime: f.runtime ?? null,
        runtime_sandboxed: false,
        allow_root: f.allowRoot,
        switch_user: f.switchUser,
        pull_policy: f.pullPolicy,
        task_queue: `${stack.config.temporal.taskQueuePrefix}-flavour-default`,
      },
    ]);
  });

  it('GET /v1/version is public and names gradeflow\'s, the API\'s and the Temporal SDK\'s versions', async () => {
    const { status, body } = await fetchJson('/v1/version');
    expect(status).toBe(200);
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(body).toEqual({ gradeflow: version, api: 'v1', temporal_sdk: '1.24.0', openapi: '/v1/openapi.json' });
  });
});
