import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { compileImageRules, ImageEntryError } from '../security/image-policy';
import { ConfigSchema, FlavourSchema, type FlavourConfig, type GradeflowConfig } from './schema';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: false });
const validateConfig = ajv.compile<GradeflowConfig>(ConfigSchema);
// Ajv fills defaults only under `properties`, so each flavour (a record value) is validated on its own.
const validateFlavour = ajv.compile<FlavourConfig>(FlavourSchema);

type Env = Record<string, string | undefined>;

/** What `loadConfig` takes over the file and environment: whole top-level keys; a section may leave keys out (their defaults apply). */
export type ConfigOverrides = {
  [K in keyof GradeflowConfig]?: GradeflowConfig[K] extends readonly unknown[]
    ? GradeflowConfig[K]
    : GradeflowConfig[K] extends Record<string, unknown>
      ? Partial<GradeflowConfig[K]>
      : GradeflowConfig[K];
};

function readFileConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read GRADEFLOW_CONFIG file ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the top level must be an object');
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`GRADEFLOW_CONFIG file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function intFromEnv(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be a whole number, got "${value}"`);
  return Number(value);
}

function section(raw: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = raw[key];
  if (value === undefined) return (raw[key] = {}) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config field "${key}" must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Overlay environment variables onto the raw (unvalidated) config. */
function applyEnv(raw: Record<string, unknown>, env: Env): void {
  const api = section(raw, 'api');
  const temporal = section(raw, 'temporal');
  const worker = section(raw, 'worker');
  const apiPort = intFromEnv(env, 'GRADEFLOW_API_PORT');
  if (apiPort !== undefined) api.port = apiPort;
  if (env.GRADEFLOW_API_HOST) api.host = env.GRADEFLOW_API_HOST;
  if (env.GRADEFLOW_PUBLIC_URL) api.publicUrl = env.GRADEFLOW_PUBLIC_URL;
  if (env.GRADEFLOW_DATA_DIR) raw.dataDir = env.GRADEFLOW_DATA_DIR;
  if (env.DATABASE_URL) raw.databaseUrl = env.DATABASE_URL;
  if (env.TEMPORAL_ADDRESS) temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) temporal.namespace = env.TEMPORAL_NAMESPACE;
  const tPort = intFromEnv(env, 'TEMPORAL_PORT');
  if (tPort !== undefined) temporal.port = tPort;
  const uiPort = intFromEnv(env, 'TEMPORAL_UI_PORT');
  if (uiPort !== undefined) temporal.uiPort = uiPort;
  if (env.GRADEFLOW_TASK_QUEUE_PREFIX) temporal.taskQueuePrefix = env.GRADEFLOW_TASK_QUEUE_PREFIX;
  // The Temporal CLI's own variable names, so one environment serves both.
  if (env.TEMPORAL_API_KEY) temporal.apiKey = env.TEMPORAL_API_KEY;
  const tlsEnv: Record<string, string> = {
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'serverCaFile',
    TEMPORAL_TLS_CLIENT_CERT_PATH: 'clientCertFile',
    TEMPORAL_TLS_CLIENT_KEY_PATH: 'clientKeyFile',
    TEMPORAL_TLS_SERVER_NAME: 'serverName',
  };
  if (env.TEMPORAL_TLS || Object.keys(tlsEnv).some((name) => env[name])) {
    const tls = section(temporal, 'tls');
    if (env.TEMPORAL_TLS) {
      if (!/^(true|false|1|0)$/.test(env.TEMPORAL_TLS)) throw new ConfigError(`TEMPORAL_TLS must be true or false, got "${env.TEMPORAL_TLS}"`);
      tls.enabled = env.TEMPORAL_TLS === 'true' || env.TEMPORAL_TLS === '1';
    }
    for (const [name, key] of Object.entries(tlsEnv)) if (env[name]) tls[key] = env[name];
  }
  if (env.GRADEFLOW_WORKER_TOKEN) raw.workerToken = env.GRADEFLOW_WORKER_TOKEN;
  if (env.GRADEFLOW_HOST_ID) worker.hostId = env.GRADEFLOW_HOST_ID;
  const slots = intFromEnv(env, 'GRADEFLOW_SLOTS');
  if (slots !== undefined) worker.slots = slots;
  if (env.GRADEFLOW_LOG_LEVEL) raw.logLevel = env.GRADEFLOW_LOG_LEVEL;
  applyPrivacyEnv(raw, temporal, env);
}

/** The payload key, codec endpoint token and UI origins from the environment (one of each: the cluster and compose set them). */
function applyPrivacyEnv(raw: Record<string, unknown>, temporal: Record<string, unknown>, env: Env): void {
  const keys = temporal.payloadKeys;
  const noKeys = keys === undefined || (Array.isArray(keys) && keys.length === 0);
  const id = env.GRADEFLOW_PAYLOAD_KEY_ID || 'default';
  // The key stays in the environment (or its file); the config names where only.
  if (noKeys && env.GRADEFLOW_PAYLOAD_KEY) temporal.payloadKeys = [{ id, keyEnv: 'GRADEFLOW_PAYLOAD_KEY', current: true }];
  else if (noKeys && env.GRADEFLOW_PAYLOAD_KEY_FILE) temporal.payloadKeys = [{ id, keyFile: env.GRADEFLOW_PAYLOAD_KEY_FILE, current: true }];
  if (env.GRADEFLOW_CODEC_TOKEN || env.GRADEFLOW_CODEC_CORS_ORIGINS) {
    const codec = section(raw, 'codecServer');
    if (env.GRADEFLOW_CODEC_TOKEN) codec.tokens = [...((codec.tokens as string[] | undefined) ?? []), env.GRADEFLOW_CODEC_TOKEN];
    if (env.GRADEFLOW_CODEC_CORS_ORIGINS) {
      codec.corsOrigins = env.GRADEFLOW_CODEC_CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
    }
  }
}

/** Names the failing field the way a person writes it: `platforms[0].callbackSecret`. */
function fieldName(instancePath: string, missing?: string): string {
  const parts = instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`));
  if (missing) parts.push(`.${missing}`);
  return parts.join('').replace(/^\./, '') || '(top level)';
}

function check(validate: ValidateFunction, value: unknown, prefix: string): void {
  if (validate(value)) return;
  const err = validate.errors?.[0];
  const missing = err?.keyword === 'required' ? String(err.params.missingProperty) : undefined;
  const extra = err?.keyword === 'additionalProperties' ? String(err.params.additionalProperty) : undefined;
  const where = fieldName(prefix + (err?.instancePath ?? ''), missing ?? extra);
  const what = extra ? 'is not a known setting' : missing ? 'is required' : (err?.message ?? 'is invalid');
  throw new ConfigError(`config field "${where}" ${what}`);
}

/** Check invariants the schema cannot express. */
function checkConsistency(config: GradeflowConfig): void {
  if (!config.flavours.default) throw new ConfigError('config field "flavours.default" is required');
  const ids = new Set<string>();
  const keys = new Set<string>();
  const hookSecrets = new Set<string>();
  config.platforms.forEach((p, i) => {
    if (ids.has(p.id)) throw new ConfigError(`config field "platforms[${i}].id": duplicate platform id "${p.id}"`);
    ids.add(p.id);
    for (const k of p.apiKeys) {
      if (keys.has(k)) throw new ConfigError(`config field "platforms[${i}].apiKeys": a key is shared with another platform`);
      keys.add(k);
    }
    for (const kind of ['gitlab', 'github'] as const) {
      const hook = p.gitHooks?.[kind];
      if (!hook) continue;
      const field = `platforms[${i}].gitHooks.${kind}`;
      if (hookSecrets.has(`${kind}\n${hook.secret}`)) throw new ConfigError(`config field "${field}.secret": shared with another platform (the secret tells whose hook it is)`);
      hookSecrets.add(`${kind}\n${hook.secret}`);
      if (hook.password !== undefined && hook.passwordEnv !== undefined) throw new ConfigError(`config field "${field}": give password or passwordEnv, not both`);
    }
    if (p.callbackSecret === undefined && p.callbackSecrets === undefined) {
      throw new ConfigError(`config field "platforms[${i}].callbackSecret" is required (or callbackSecrets, for several)`);
    }
    try {
      compileImageRules(p.images);
    } catch (err) {
      if (!(err instanceof ImageEntryError)) throw err;
      throw new ConfigError(`config field "platforms[${i}].images[${err.index}]" ${err.message}`);
    }
  });
  const tls = config.temporal.tls;
  if (!tls.clientCertFile !== !tls.clientKeyFile) {
    throw new ConfigError('config fields "temporal.tls.clientCertFile" and "temporal.tls.clientKeyFile" go together: set both or neither');
  }
  const hosts = new Set<string>();
  config.registries.forEach((r, i) => {
    if (hosts.has(r.host)) throw new ConfigError(`config field "registries[${i}].host": registry "${r.host}" is listed twice`);
    hosts.add(r.host);
    if (r.password !== undefined && r.passwordEnv !== undefined) {
      throw new ConfigError(`config field "registries[${i}]": give password or passwordEnv, not both`);
    }
    if ((r.password !== undefined || r.passwordEnv !== undefined) && r.username === undefined) {
      throw new ConfigError(`config field "registries[${i}].username" is required with a password`);
    }
  });
  checkPayloadKeys(config.temporal.payloadKeys ?? []);
  for (const f of config.worker.flavours ?? []) {
    if (!config.flavours[f]) throw new ConfigError(`config field "worker.flavours": unknown flavour "${f}"`);
  }
}

function checkPayloadKeys(keys: NonNullable<GradeflowConfig['temporal']['payloadKeys']>): void {
  const ids = new Set<string>();
  keys.forEach((k, i) => {
    if (ids.has(k.id)) throw new ConfigError(`config field "temporal.payloadKeys[${i}].id": key id "${k.id}" is listed twice`);
    ids.add(k.id);
    if ((k.keyEnv === undefined) === (k.keyFile === undefined)) {
      throw new ConfigError(`config field "temporal.payloadKeys[${i}]": give keyEnv or keyFile, one of them`);
    }
  });
  const current = keys.filter((k) => k.current).length;
  if (keys.length > 1 && current !== 1) {
    throw new ConfigError(`config field "temporal.payloadKeys": exactly one key must be "current": true (found ${current})`);
  }
  if (keys.length === 1 && keys[0]!.current === false) {
    throw new ConfigError('config field "temporal.payloadKeys[0].current": the only key is the current one');
  }
}

/**
 * Load the configuration: defaults, then the GRADEFLOW_CONFIG file, then the environment. Validated once;
 * the result is passed down explicitly, never read from a global.
 */
export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): GradeflowConfig {
  const raw: Record<string, unknown> = env.GRADEFLOW_CONFIG ? readFileConfig(env.GRADEFLOW_CONFIG) : {};
  applyEnv(raw, env);
  Object.assign(raw, overrides);
  const flavours = raw.flavours ?? { default: {} };
  raw.flavours = flavours;
  if (typeof flavours === 'object' && flavours !== null && !Array.isArray(flavours)) {
    for (const [name, flavour] of Object.entries(flavours)) {
      check(validateFlavour, flavour, `/flavours/${name}`);
    }
  }
  check(validateConfig, raw, '');
  const config = raw as GradeflowConfig;
  config.dataDir = path.resolve(config.dataDir);
  checkConsistency(config);
  return config;
}

/** The URL grading hosts use to reach the API. */
export function apiPublicUrl(config: GradeflowConfig): string {
  if (config.api.publicUrl) return config.api.publicUrl.replace(/\/+$/, '');
  const host = config.api.host === '0.0.0.0' || config.api.host === '::' ? '127.0.0.1' : config.api.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.api.port}`;
}
