import { createRequire } from 'node:module';
import path from 'node:path';
import { historyFromJSON as sdkHistoryFromJSON, historyToJSON as sdkHistoryToJSON, type History } from '@temporalio/common/lib/proto-utils';
import type * as protoTypes from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * Histories as JSON files, in the SDK's format (`historyToJSON`/`historyFromJSON` of
 * `@temporalio/common/lib/proto-utils`, the same as `temporal workflow show --output json`).
 *
 * Those two functions throw "type must be a Type" when npm installed several copies of protobufjs
 * (`@temporalio/common` and `@temporalio/proto` each with its own nested one, as the current lockfile
 * does): protojson then checks the types against another copy's class. The fallback does what they do
 * with the protojson of the copy that built `@temporalio/proto`'s types. Same files either way.
 */
type ProtoJson = { toJson(type: unknown, message: unknown): unknown; fromJson(type: unknown, json: unknown, opts: object): unknown };

// The CommonJS modules themselves, as the SDK loads them (an ESM namespace wrapper is not the protobuf root).
const load = createRequire(__filename);
const proto = load('@temporalio/proto') as typeof protoTypes;

function protoOwn(): { protojson: ProtoJson; historyType: unknown } {
  const protoDir = path.dirname(load.resolve('@temporalio/proto/package.json'));
  const protojson = load(load.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(n: string): unknown }).lookupType('temporal.api.history.v1.History');
  return { protojson, historyType };
}

export function historyToJSON(history: History): string {
  try {
    return sdkHistoryToJSON(history);
  } catch {
    const { protojson, historyType } = protoOwn();
    return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
  }
}

export function historyFromJSON(json: unknown): History {
  try {
    return sdkHistoryFromJSON(json);
  } catch {
    const { protojson, historyType } = protoOwn();
    return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
  }
}
