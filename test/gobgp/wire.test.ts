/**
 * The hand-written AddPathStreamRequest (src/gobgp/api/wire.ts) against the generated protobuf
 * code of both API generations: the same bytes as the generic serialiser, and the same message
 * decoded, for the path shapes vipcast sends (IPv4, IPv6, withdrawals) and for random ones
 * (property: any subset of the six fields, large identifiers and ages, empty attribute lists).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MethodDefinition } from '@grpc/proto-loader';
import { GENERATIONS, loadGeneration, type ApiVersion } from '../../src/gobgp/api/generation.js';
import type { ApiPath } from '../../src/gobgp/api/types.js';
import { encodeAddPathStreamRequest, handEncodable, type AddPathStreamRequest } from '../../src/gobgp/api/wire.js';
import { desiredPath, withdrawal } from '../../src/gobgp/paths.js';
import { vip } from './fixtures.js';

function method(version: ApiVersion): MethodDefinition<object, object> {
  const service = loadGeneration(version)[GENERATIONS[version].service] as Record<string, MethodDefinition<object, object>>;
  return service.AddPathStream!;
}

/** Decoded with the generated code, bytes as plain arrays so toEqual compares contents. */
function decode(version: ApiVersion, bytes: Buffer): unknown {
  return JSON.parse(JSON.stringify(method(version).requestDeserialize(bytes)));
}

const ctx = { localAs: 65001, nextHop: { ipv4: '192.0.2.254', ipv6: '2001:db8::1' } };

describe.each(['v3', 'v4'] as const)('hand-written AddPathStreamRequest, API %s', (version) => {
  const table = GENERATIONS[version].tableGlobal;
  const generic = (req: AddPathStreamRequest): Buffer => method(version).requestSerialize(req);

  it('reads back like the generic serialiser for the paths vipcast sends', () => {
    const v4 = desiredPath(vip('192.0.2.10/32', { communities: ['65001:100'], med: 10, largeCommunities: ['65001:1:2'] }), ctx);
    const v6 = desiredPath(vip('2001:db8::10/128', { extendedCommunities: ['rt:65001:5'] }), ctx);
    const req: AddPathStreamRequest = { table_type: table, paths: [v4.path, v6.path, withdrawal(v4), withdrawal(v6)] };
    expect(handEncodable(req)).toBe(true);
    const ours = encodeAddPathStreamRequest(req);
    expect(ours.equals(generic(req))).toBe(true);
    expect(decode(version, ours)).toEqual(decode(version, generic(req)));
    const back = decode(version, ours) as { paths: Array<{ identifier: number; is_withdraw?: boolean; pattrs_binary: unknown[] }> };
    expect(back.paths.map((p) => [p.identifier, p.is_withdraw ?? false])).toEqual([
      [0x76697063, false],
      [0x76697063, false],
      [0x76697063, true],
      [0x76697063, true],
    ]);
  });

  it('an empty request, and one with only a table type', () => {
    for (const req of [{ table_type: 0, paths: [] }, { table_type: table, paths: [] }]) {
      expect(decode(version, encodeAddPathStreamRequest(req))).toEqual(decode(version, generic(req)));
    }
  });

  it('any combination of the six fields reads back the same (property)', () => {
    const bytes = fc.uint8Array({ minLength: 0, maxLength: 300 });
    const path = fc.record(
      {
        family: fc.record({ afi: fc.constantFrom(1, 2), safi: fc.constantFrom(1, 2) }),
        nlri_binary: bytes,
        pattrs_binary: fc.array(bytes, { maxLength: 6 }),
        identifier: fc.nat({ max: 0xffffffff }),
        age: fc.record({ seconds: fc.nat({ max: 2 ** 40 }) }),
        is_withdraw: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(path, { maxLength: 20 }), (paths) => {
        const req = { table_type: table, paths: paths as ApiPath[] };
        expect(handEncodable(req)).toBe(true);
        const ours = encodeAddPathStreamRequest(req);
        expect(decode(version, ours)).toEqual(decode(version, generic(req)));
        expect(ours.toString('hex')).toBe(generic(req).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('paths the hand-written encoder does not take', () => {
  it('any other field, or an age it cannot write, goes to the generic serialiser', () => {
    const p = desiredPath(vip('192.0.2.10/32'), ctx).path;
    expect(handEncodable({ table_type: 0, paths: [{ ...p, neighbor_ip: '192.0.2.1' }] })).toBe(false);
    expect(handEncodable({ table_type: 0, paths: [{ ...p, best: true }] })).toBe(false);
    expect(handEncodable({ table_type: 0, paths: [{ ...p, age: { seconds: -1 } }] })).toBe(false);
    expect(handEncodable({ table_type: 0, paths: [{ ...p, neighbor_ip: undefined }] })).toBe(true);
  });
});
