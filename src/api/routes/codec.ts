import { timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import { Type, type Static } from '@sinclair/typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GradeflowConfig } from '../../config/schema';
import { operatorSecurity } from '../schemas/common';
import { PayloadDecryptionError } from '../../security/payload-codec';
import { payloadCodecFromConfig } from '../../security/payload-keys';
import { sha256Hex as sha256 } from '../../shared/sha256';
import { ApiError } from '../errors';

/** A payload as Temporal's codec server protocol carries it: protobuf JSON, so bytes in base64. */
const PayloadJson = Type.Object(
  {
    metadata: Type.Optional(
      Type.Record(Type.String(), Type.String({ contentEncoding: 'base64' }), { description: 'metadata values, base64' }),
    ),
    data: Type.Optional(Type.String({ contentEncoding: 'base64', description: 'the payload bytes, base64' })),
  },
  { description: 'a Temporal Payload in protobuf JSON' },
);
const PayloadsBody = Type.Object(
  { payloads: Type.Array(PayloadJson, { maxItems: 10000 }) },
  { additionalProperties: false, description: 'Temporal codec server protocol: the payloads to encode or decode' },
);
type PayloadsBody = Static<typeof PayloadsBody>;
const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});
const Headers = Type.Object({
  authorization: Type.Optional(Type.String({ description: '"Bearer <operator token>" (codecServer.tokens); the CLI sends --codec-auth as is' })),
  'x-namespace': Type.Optional(Type.String({ description: 'the Temporal namespace the payloads belong to (sent by the UI)' })),
});

const TokenParams = Type.Object({ token: Type.String({ description: 'an operator token (codecServer.tokens), for a UI that cannot send headers' }) });

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bytes(text: string, field: string): Buffer {
  if (!BASE64.test(text)) throw new ApiError(400, 'invalid_field', `${field} is not base64`, field);
  return Buffer.from(text, 'base64');
}

function fromJson(p: PayloadsBody['payloads'][number], i: number): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, bytes(v, `payloads[${i}].metadata.${k}`)])),
    data: bytes(p.data ?? '', `payloads[${i}].data`),
  };
}

function toJson(p: Payload): PayloadsBody['payloads'][number] {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** Operator tokens are held as SHA-256 digests; the config gives them plain or as "sha256:<hex>". */
function createOperatorAuth(tokens: readonly string[]) {
  const digests = tokens.map((t) => Buffer.from(t.startsWith('sha256:') ? t.slice(7).toLowerCase() : sha256(t)));
  return (req: FastifyRequest, pathToken: string | undefined): void => {
    const header = req.headers.authorization;
    if (!header && !pathToken) throw new ApiError(401, 'unauthorized', 'send "Authorization: Bearer <operator token>" (codecServer.tokens)');
    const token = header ? (/^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? header) : pathToken!;
    const presented = Buffer.from(sha256(token));
    // Every token is compared, in constant time, whichever matches.
    const known = digests.reduce((found, d) => (d.length === presented.length && timingSafeEqual(d, presented)) || found, false);
    if (!known) throw new ApiError(403, 'forbidden', 'this token may not use the codec endpoint');
  };
}

/**
 * Temporal's codec server protocol, so the Temporal UI and CLI show gradeflow's encrypted payloads to
 * operators: `POST /codec/decode` and `POST /codec/encode`, body and answer `{payloads: [...]}`. Only with
 * `temporal.payloadKeys` and `codecServer.tokens` set (else 404): a request without `Authorization` is
 * refused with 401, one with a token not in `codecServer.tokens` with 403, one for another namespace
 * (`X-Namespace`) with 403. Browsers may call it from `codecServer.corsOrigins` only, with credentials
 * (preflight answered by @fastify/cors). Payloads are never logged.
 */
export async function registerCodecRoutes(app: FastifyInstance, deps: { config: GradeflowConfig; codec?: PayloadCodec }): Promise<void> {
  const { config } = deps;
  const codec = deps.codec ?? payloadCodecFromConfig(config);
  const enabled = codec !== undefined && config.codecServer.tokens.length > 0;
  const authorize = createOperatorAuth(config.codecServer.tokens);
  await app.register(
    async (scope) => {
      await scope.register(cors, {
        origin: config.codecServer.corsOrigins,
        credentials: true,
        methods: ['POST'],
        allowedHeaders: ['Content-Type', 'Authorization', 'X-Namespace'],
        maxAge: 600,
      });
      const route = (name: 'encode' | 'decode', summary: string) => {
        // summary/description/tags are for the OpenAPI document (not in FastifySchema's own type).
        const schema = {
          summary,
          description:
            "Temporal's codec server protocol (the Temporal UI's codec endpoint, the CLI's --codec-endpoint). Needs an operator token; off (404) without payload keys and tokens.",
          tags: ['codec'],
          security: operatorSecurity,
          headers: Headers,
          body: PayloadsBody,
          response: { 200: PayloadsBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody },
        };
        const handler = async (req: FastifyRequest<{ Body: PayloadsBody; Params: { token?: string } }>) => {
          if (!enabled) throw new ApiError(404, 'codec_endpoint_off', 'the codec endpoint is off: set temporal.payloadKeys and codecServer.tokens');
          authorize(req, req.params.token);
          const namespace = req.headers['x-namespace'];
          if (typeof namespace === 'string' && namespace !== '' && namespace !== config.temporal.namespace) {
            throw new ApiError(403, 'namespace_not_served', `this endpoint serves namespace "${config.temporal.namespace}" only`, 'X-Namespace');
          }
          const payloads = req.body.payloads.map(fromJson);
          try {
            const out = name === 'encode' ? await codec!.encode(payloads) : await codec!.decode(payloads);
            return { payloads: out.map(toJson) };
          } catch (err) {
            if (err instanceof PayloadDecryptionError) throw new ApiError(422, 'undecodable_payload', err.message, 'payloads');
            throw err;
          }
        };
        scope.post(`/${name}`, { schema }, handler);
        // The token in the path, for a Temporal UI that sends no Authorization header (no SSO): the endpoint
        // it is given is `<api>/codec/t/<token>`; the request log shows this path without the token.
        scope.post(`/t/:token/${name}`, { schema: { ...schema, params: TokenParams } }, handler);
      };
      route('decode', 'Decode (decrypt) Temporal payloads');
      route('encode', 'Encode (encrypt) Temporal payloads');
    },
    { prefix: '/codec' },
  );
}
