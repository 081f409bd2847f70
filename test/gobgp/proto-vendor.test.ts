/**
 * proto/gobgp holds GoBGP's upstream .proto files unmodified (proto/gobgp/NOTE.md): every file's
 * sha256 is the one NOTE.md records, every recorded file is there, both licences are present,
 * and, where the upstream sources are on this machine (Debian's golang-github-osrg-gobgp-dev for
 * v3, the Go module cache for v4), the vendored files equal them byte for byte.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', 'proto', 'gobgp');
const DEBIAN_V3 = '/usr/share/gocode/src/github.com/osrg/gobgp/api';

function recorded(): Map<string, string> {
  const note = readFileSync(join(ROOT, 'NOTE.md'), 'utf8');
  const sums = new Map<string, string>();
  for (const m of note.matchAll(/^([0-9a-f]{64})\s+(\S+\.proto)$/gm)) sums.set(m[2]!, m[1]!);
  return sums;
}

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.proto'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The Go module cache's copy of github.com/osrg/gobgp/v4@v4.8.0, if any. */
function v4ModuleDir(): string | undefined {
  let cache: string | undefined;
  try {
    cache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    cache = join(homedir(), 'go', 'pkg', 'mod');
  }
  const dir = join(cache, 'github.com', 'osrg', 'gobgp', 'v4@v4.8.0');
  return existsSync(join(dir, 'proto', 'api', 'gobgp.proto')) ? dir : undefined;
}

describe('vendored GoBGP protos', () => {
  it('match the checksums in NOTE.md, one entry per file', () => {
    const sums = recorded();
    expect([...sums.keys()].sort()).toEqual(protoFiles(ROOT));
    for (const [file, sum] of sums) expect(sha256(join(ROOT, file)), file).toBe(sum);
  });

  it('carry their licences and the note of origin and version', () => {
    for (const lic of ['v3/LICENSE', 'v4/LICENSE']) expect(readFileSync(join(ROOT, lic), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    const note = readFileSync(join(ROOT, 'NOTE.md'), 'utf8');
    expect(note).toContain('golang-github-osrg-gobgp-dev');
    expect(note).toContain('github.com/osrg/gobgp/v4');
    expect(note).toMatch(/v4\.8\.0|4\.8\.0/);
  });

  it.skipIf(!existsSync(DEBIAN_V3))(`v3 equals Debian's ${DEBIAN_V3} byte for byte`, () => {
    for (const file of protoFiles(join(ROOT, 'v3'))) {
      const name = file.slice('v3/'.length);
      expect(readFileSync(join(ROOT, file)).equals(readFileSync(join(DEBIAN_V3, name))), file).toBe(true);
    }
  });

  const v4 = v4ModuleDir();
  it.skipIf(!v4)('v4 equals the Go module github.com/osrg/gobgp/v4@v4.8.0 (proto/api, LICENSE) byte for byte', () => {
    for (const file of protoFiles(join(ROOT, 'v4'))) {
      const name = file.slice('v4/'.length); // api/gobgp.proto
      expect(readFileSync(join(ROOT, file)).equals(readFileSync(join(v4!, 'proto', name))), file).toBe(true);
    }
    expect(readFileSync(join(ROOT, 'v4', 'LICENSE')).equals(readFileSync(join(v4!, 'LICENSE')))).toBe(true);
  });
});
