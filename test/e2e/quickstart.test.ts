/**
 * The README's first command ends in `npm run quickstart` (examples/quickstart.sh): vipcast
 * advertising to `vipcast listen`. This runs the script itself, so the README cannot rot.
 * The script checks each step at the peer and exits non-zero on the first miss.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasBuild } from '../harness/vipcast.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe.skipIf(!hasBuild())('quickstart (examples/quickstart.sh)', () => {
  it('shows the VIP going up, down, draining and withdrawn at the peer, and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile('bash', ['examples/quickstart.sh'], { cwd: root, timeout: 120_000 }, (err, stdout) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
      });
    });
    expect(stdout, stdout).toContain('vipcast exited with status 0');
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/announce 192\.0\.2\.10\/32 .*communities 65535:0/);
    expect(stdout).toContain('Cease/Administrative Shutdown: vipcast shutting down');
  }, 150_000);
});
