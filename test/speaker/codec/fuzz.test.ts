/**
 * Bounded fuzzing of the decoder: random messages and mutations of the captured fixtures go into
 * readMessageLength and decodeMessage. Each must return a message or throw NotificationError
 * (the NOTIFICATION to send), never anything else, and never take long. What decodes must
 * re-encode (or be refused by the encoder with a CodecInputError) and decode to the same message.
 * Runs for FUZZ_MS (default 4 s) or FUZZ_ITERATIONS, whichever ends first; the seed is printed on
 * failure so a crasher can be replayed and kept as a fixture.
 */
import { describe, expect, it } from 'vitest';
import { CodecInputError, MessageType, NotificationError, decodeMessage, encodeMessage, readMessageLength, type CodecOptions, type DecodedMessage, type DecodedUpdate } from '../../../src/speaker/codec/index.js';
import { loadFixtures, parseOptions } from './fixtures.js';

const FUZZ_MS = Number(process.env.FUZZ_MS ?? 4000);
const FUZZ_ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 200_000);
/** Generous: a decode takes microseconds, but CI shares 2 cores with daemons; a hang still fails. */
const SLOW_MS = 2000;

/** xorshift32: reproducible from the seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const OPTIONS: CodecOptions[] = [
  { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false },
  { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false },
  { fourOctetAs: true, extendedMessage: true, extendedNextHopIpv4: true },
];

function setLength(buf: Buffer): Buffer {
  if (buf.length >= 18) buf.writeUInt16BE(Math.min(buf.length, 0xffff), 16);
  return buf;
}

function mutate(seedMsg: Buffer, r: () => number): Buffer {
  let buf = Buffer.from(seedMsg);
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const pick = r();
    const at = Math.floor(r() * Math.max(1, buf.length));
    if (pick < 0.45 && buf.length > 0) buf[at] = Math.floor(r() * 256); // random byte
    else if (pick < 0.6 && buf.length > 0) buf[at] = (buf[at] ?? 0) ^ (1 << Math.floor(r() * 8)); // bit flip
    else if (pick < 0.7) buf = buf.subarray(0, at); // truncate
    else if (pick < 0.8) buf = Buffer.concat([buf.subarray(0, at), Buffer.from([Math.floor(r() * 256)]), buf.subarray(at)]); // insert
    else if (pick < 0.9) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]); // delete
    else if (buf.length > 19) buf[19 + Math.floor(r() * (buf.length - 19))] = [0x00, 0xff, 0x7f, 0x80, 0x20, 0x21, 0x81][Math.floor(r() * 7)]!; // boundary values
  }
  // Usually keep the length field honest so the body parsers get exercised, not just framing.
  return r() < 0.8 ? setLength(buf) : buf;
}

function randomMessage(r: () => number): Buffer {
  const len = 19 + Math.floor(r() * r() * 300);
  const buf = Buffer.alloc(len);
  for (let i = 19; i < len; i++) buf[i] = Math.floor(r() * 256);
  buf.fill(0xff, 0, 16);
  buf[18] = 1 + Math.floor(r() * 5);
  return setLength(buf);
}

/** Strips RFC 7606 findings: re-encoding drops discarded attributes, so those differ by design. */
function core(m: DecodedMessage): unknown {
  if (m.type !== MessageType.Update) return m;
  const { treatAsWithdraw: _t, discarded: _d, ...rest } = m;
  return rest;
}

function decodeOnce(buf: Buffer, opts: CodecOptions): 'ok' | 'notification' {
  try {
    readMessageLength(buf, opts);
    const m = decodeMessage(buf, opts);
    let again: Buffer | undefined;
    try {
      again = encodeMessage(m, opts);
    } catch (err) {
      if (!(err instanceof CodecInputError)) throw err;
    }
    if (again) expect(core(decodeMessage(again, opts))).toEqual(core(m));
    return 'ok';
  } catch (err) {
    if (err instanceof NotificationError) return 'notification';
    throw err;
  }
}

function check(buf: Buffer, opts: CodecOptions): 'ok' | 'notification' {
  const started = performance.now();
  const outcome = decodeOnce(buf, opts);
  const took = performance.now() - started;
  if (took > SLOW_MS) throw new Error(`decoding took ${took.toFixed(0)} ms: ${buf.toString('hex')}`);
  return outcome;
}

describe('decoder fuzzing (bounded)', () => {
  const fixtures = loadFixtures();
  const seeds = fixtures.map((f) => f.bytes);
  const crashers = fixtures.filter((f) => f.session === 'crashers');

  it('replays the crashers it found before (test/fixtures/bgp/crashers)', () => {
    expect(crashers.length).toBeGreaterThanOrEqual(2);
    for (const f of crashers) {
      const opts = parseOptions(f.meta.options ?? '');
      expect(decodeOnce(f.bytes, opts), f.name).toBe('ok');
      const m = decodeMessage(f.bytes, opts) as DecodedUpdate;
      const expected = f.meta.expect ?? '';
      expect(m.treatAsWithdraw !== undefined, f.name).toBe(expected.includes('treat-as-withdraw'));
      const discard = /discard ([\d ]+)/.exec(expected)?.[1]?.trim().split(' ').map(Number) ?? [];
      expect(m.discarded?.map((d) => d.code) ?? [], f.name).toEqual(discard);
    }
  });

  it('has seeds from the fixtures', () => {
    expect(seeds.length).toBeGreaterThan(40);
  });

  it('random and mutated messages: a message or a NotificationError, nothing else, never slow', () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
    const r = rng(seed);
    const deadline = Date.now() + FUZZ_MS;
    const tally = { ok: 0, notification: 0 };
    let i = 0;
    for (; i < FUZZ_ITERATIONS && Date.now() < deadline; i++) {
      const buf = r() < 0.85 ? mutate(seeds[Math.floor(r() * seeds.length)]!, r) : randomMessage(r);
      const opts = OPTIONS[Math.floor(r() * OPTIONS.length)]!;
      try {
        tally[check(buf, opts)]++;
      } catch (err) {
        throw new Error(`fuzz seed ${seed}, iteration ${i}, options ${JSON.stringify(opts)}, input ${buf.toString('hex')}: ${String(err)}`, { cause: err });
      }
    }
    // Both outcomes must have happened a fair number of times, or the fuzzer tested nothing.
    expect(i).toBeGreaterThan(1000);
    expect(tally.ok).toBeGreaterThan(i / 20);
    expect(tally.notification).toBeGreaterThan(i / 20);
    console.log(`fuzz seed ${seed}: ${i} inputs, ${tally.ok} decoded, ${tally.notification} NOTIFICATIONs`);
  }, 60_000);
});
