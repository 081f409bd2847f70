/**
 * Issue 2: logging with pino, JSON lines by default (for collectors), `log.format: pretty` for
 * people. Both go to stderr so stdout stays free for command output. Run in a child process
 * against the built logger (pino-pretty runs in a worker thread that needs real modules).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasBuild } from '../harness/vipcast.js';

const LOGGER = fileURLToPath(new URL('../../dist/src/log/logger.js', import.meta.url));

function logOnce(format: 'json' | 'pretty'): Promise<{ stdout: string; stderr: string }> {
  const script = `
    import { createLogger } from ${JSON.stringify(LOGGER)};
    const log = createLogger({ level: 'info', format: ${JSON.stringify(format)} });
    log.debug('not shown at info');
    log.info({ vip: 'web' }, 'VIP state changed');
    log.flush();
  `;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

describe.skipIf(!hasBuild())('log format (built logger; run `npm run build` first)', () => {
  it('json (the default): one JSON object per line on stderr, nothing on stdout', async () => {
    const { stdout, stderr } = await logOnce('json');
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, name: 'vipcast', vip: 'web', msg: 'VIP state changed' });
  });

  it('pretty: a human line with the level name and the fields, not JSON, on stderr', async () => {
    const { stdout, stderr } = await logOnce('pretty');
    expect(stdout).toBe('');
    expect(stderr).toMatch(/INFO.*VIP state changed/);
    expect(stderr).toMatch(/vip: "web"/);
    expect(stderr).not.toContain('not shown at info');
    expect(() => JSON.parse(stderr.trim().split('\n')[0]!) as unknown).toThrow();
  });
});
