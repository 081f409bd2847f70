import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InterfaceBinder } from '../../src/net/bind-interface.js';
import { silentLogger } from '../../src/log/logger.js';

const run = promisify(execFile);
// A namespace of the test's own: the addresses never touch the host's interfaces.
const ns = `vipcast-bind-${process.pid}`;
const canNetns = process.getuid?.() === 0;

async function addrs(): Promise<string> {
  const { stdout } = await run('ip', ['-n', ns, 'addr', 'show', 'dev', 'lo']);
  return stdout;
}

describe.skipIf(!canNetns)('InterfaceBinder (in a test network namespace; needs root)', () => {
  const binder = new InterfaceBinder(silentLogger, async (args) => {
    await run('ip', ['-n', ns, ...args]);
  });

  beforeAll(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  });
  afterAll(async () => {
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('adds IPv4 and IPv6 VIPs and removes only what it added', async () => {
    await run('ip', ['-n', ns, 'addr', 'add', '192.0.2.99/32', 'dev', 'lo']); // someone else's
    await binder.bind('192.0.2.10/32', 'lo');
    await binder.bind('2001:db8::10/128', 'lo');
    await binder.bind('192.0.2.99/32', 'lo');
    let out = await addrs();
    expect(out).toContain('192.0.2.10/32');
    expect(out).toContain('2001:db8::10/128');
    await binder.unbindAll();
    out = await addrs();
    expect(out).not.toContain('192.0.2.10/32');
    expect(out).not.toContain('2001:db8::10/128');
    expect(out).toContain('192.0.2.99/32');
  });

  it('reports a clear error when the interface does not exist', async () => {
    await expect(binder.bind('192.0.2.11/32', 'nosuchdev0')).rejects.toThrow(/adding 192.0.2.11\/32 to nosuchdev0 failed/);
  });
});
