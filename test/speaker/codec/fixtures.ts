/**
 * Fixture files under test/fixtures/bgp/<session>/NN-<type>-from-<daemon>.hex: one BGP message
 * each, captured from real daemons (capture/capture.sh), and crashers/ where the fuzz test's
 * findings are kept. Lines starting with "#" are comments ("# @key: value" is metadata: from, to,
 * session; options and expect for crashers), every other line is hex.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodecOptions } from '../../../src/speaker/codec/types.js';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/bgp');

export interface Fixture {
  /** Path relative to FIXTURE_DIR, e.g. "bird-gobgpd/03-update-from-bird.hex". */
  name: string;
  session: string;
  file: string;
  from: string;
  bytes: Buffer;
  meta: Record<string, string>;
}

export function parseFixture(text: string): { bytes: Buffer; meta: Record<string, string> } {
  const meta: Record<string, string> = {};
  let hex = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*@(\w+):\s*(.*)$/.exec(line);
      if (m?.[1]) meta[m[1]] = m[2] ?? '';
      continue;
    }
    if (!/^[0-9a-fA-F\s]+$/.test(line)) throw new Error(`not hex: ${line}`);
    hex += line.replace(/\s+/g, '');
  }
  if (hex.length % 2) throw new Error('odd number of hex digits');
  return { bytes: Buffer.from(hex, 'hex'), meta };
}

/** Every *.hex file under `dir` (recursively), sorted by name. */
export function fixtureFiles(dir = FIXTURE_DIR): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.hex')).map((f) => join(dir, f)).sort();
}

/** "fourOctetAs=1 extendedMessage=0 extendedNextHopIpv4=0" (crasher fixtures state their options). */
export function parseOptions(text: string): CodecOptions {
  const kv = new Map(text.split(/\s+/).map((p) => p.split('=') as [string, string]));
  return { fourOctetAs: kv.get('fourOctetAs') === '1', extendedMessage: kv.get('extendedMessage') === '1', extendedNextHopIpv4: kv.get('extendedNextHopIpv4') === '1' };
}

export function loadFixtures(dir = FIXTURE_DIR): Fixture[] {
  return fixtureFiles(dir).map((file) => {
    const { bytes, meta } = parseFixture(readFileSync(file, 'utf8'));
    const name = relative(dir, file);
    const from = /-from-([a-z0-9]+)\.hex$/.exec(basename(file))?.[1] ?? 'unknown';
    return { name, session: dirname(name), file, from, bytes, meta };
  });
}
