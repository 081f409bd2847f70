/**
 * Adds VIP addresses to a local interface (`bind_interface`, usually `lo`) so the host accepts
 * traffic for them, and removes them again on shutdown: after the withdraw, never before, so
 * clients still in flight are not refused while routers converge (ExaBGP #993; kube-vip #1563
 * left the VIP on lo). Only addresses vipcast added are removed; one that was already there
 * belongs to someone else. Needs CAP_NET_ADMIN; driven through iproute2's `ip`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);

export interface AddressCommand {
  (args: string[]): Promise<void>;
}

const ipCommand: AddressCommand = async (args) => {
  await run('ip', args, { timeout: 5_000 });
};

export class InterfaceBinder {
  /** "prefix dev" entries this process added. */
  private readonly added = new Map<string, { prefix: string; dev: string }>();

  constructor(
    private readonly logger: Logger,
    private readonly ip: AddressCommand = ipCommand,
  ) {}

  async bind(prefix: string, dev: string): Promise<void> {
    const key = `${prefix} ${dev}`;
    if (this.added.has(key)) return;
    const family = prefix.includes(':') ? '-6' : '-4';
    // nodad: a VIP on lo must be usable at once, not after IPv6 duplicate address detection.
    const extra = family === '-6' ? ['nodad'] : [];
    try {
      await this.ip([family, 'addr', 'add', prefix, 'dev', dev, ...extra]);
      this.added.set(key, { prefix, dev });
      this.logger.info({ prefix, dev }, 'VIP address added to interface');
    } catch (err) {
      // iproute2 says "File exists" (RTNETLINK EEXIST) or "Address already assigned", by version.
      if (/File exists|already assigned/i.test(String((err as { stderr?: string }).stderr ?? err))) {
        this.logger.info({ prefix, dev }, 'VIP address already on the interface; leaving it to its owner');
        return;
      }
      throw new Error(`adding ${prefix} to ${dev} failed (needs CAP_NET_ADMIN): ${stderrOf(err)}`, { cause: err });
    }
  }

  async unbind(prefix: string, dev: string): Promise<void> {
    const key = `${prefix} ${dev}`;
    if (!this.added.delete(key)) return;
    try {
      await this.ip([prefix.includes(':') ? '-6' : '-4', 'addr', 'del', prefix, 'dev', dev]);
      this.logger.info({ prefix, dev }, 'VIP address removed from interface');
    } catch (err) {
      this.logger.warn({ prefix, dev, err: stderrOf(err) }, 'removing VIP address failed');
    }
  }

  /** Addresses this process added, for reload diffs. */
  bound(): Array<{ prefix: string; dev: string }> {
    return [...this.added.values()];
  }

  async unbindAll(): Promise<void> {
    for (const { prefix, dev } of this.bound()) await this.unbind(prefix, dev);
  }
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr ?? e.message ?? String(err)).trim();
}
