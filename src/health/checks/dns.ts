/**
 * dns check: query one server (node:dns Resolver pointed at host:port, one try) for a name and
 * record type. NXDOMAIN, SERVFAIL, no data, refused and timeout are down results; with
 * `expect`, at least one answer must equal one of the expected values.
 */
import { Resolver } from 'node:dns/promises';
import type { DnsCheckSpec } from '../types.js';
import { down, errorCode, errorMessage, ok, type Checker, type Outcome } from './types.js';

export class DnsChecker implements Checker {
  readonly spec: DnsCheckSpec;
  readonly #resolver: Resolver;

  constructor(spec: DnsCheckSpec, timeoutMs: number) {
    this.spec = spec;
    // c-ares retries with growing timeouts; one try keeps the result within the check timeout.
    this.#resolver = new Resolver({ timeout: Math.max(1, timeoutMs), tries: 1 });
    const server = spec.host.includes(':') ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`;
    this.#resolver.setServers([server]);
  }

  async run(signal: AbortSignal): Promise<Outcome> {
    // cancel() ends every outstanding query of this resolver; a check never overlaps itself, so
    // that is only ours.
    const onAbort = (): void => this.#resolver.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const answers = await this.#resolve();
      return this.#judge(answers);
    } catch (err) {
      return classify(err, this.spec);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async #resolve(): Promise<string[]> {
    const { name, record } = this.spec;
    switch (record) {
      case 'A':
        return this.#resolver.resolve4(name);
      case 'AAAA':
        return this.#resolver.resolve6(name);
      case 'CNAME':
        return this.#resolver.resolveCname(name);
      case 'NS':
        return this.#resolver.resolveNs(name);
      case 'PTR':
        return this.#resolver.resolvePtr(name);
      case 'MX':
        return (await this.#resolver.resolveMx(name)).map((mx) => `${mx.priority} ${mx.exchange}`);
      case 'SRV':
        return (await this.#resolver.resolveSrv(name)).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}`);
      case 'TXT':
        return (await this.#resolver.resolveTxt(name)).map((parts) => parts.join(''));
      case 'SOA': {
        const soa = await this.#resolver.resolveSoa(name);
        return [`${soa.nsname} ${soa.hostmaster} ${soa.serial}`];
      }
    }
  }

  #judge(answers: string[]): Outcome {
    const { name, record, expect } = this.spec;
    if (answers.length === 0) return down('DNS_NODATA', `dns ${record} ${name}: no answers`);
    if (expect && expect.length > 0 && !answers.some((a) => expect.includes(a))) {
      return down('DNS_MISMATCH', `dns ${record} ${name}: got ${answers.join(',')}, expected one of ${expect.join(',')}`);
    }
    return ok(`dns ${record} ${name}: ${answers.slice(0, 4).join(',')}`);
  }
}

function classify(err: unknown, spec: DnsCheckSpec): Outcome {
  const prefix = `dns ${spec.record} ${spec.name} @${spec.host}:${spec.port}`;
  switch (errorCode(err)) {
    case 'ENOTFOUND':
      return down('DNS_NXDOMAIN', `${prefix}: NXDOMAIN`);
    case 'ESERVFAIL':
      return down('DNS_SERVFAIL', `${prefix}: SERVFAIL`);
    case 'ENODATA':
      return down('DNS_NODATA', `${prefix}: no data`);
    case 'ETIMEOUT':
      return down('TIMEOUT', `${prefix}: timeout`);
    case 'ECANCELLED':
      return down('TIMEOUT', `${prefix}: cancelled at timeout`);
    case 'ECONNREFUSED':
      return down('CONNECT_REFUSED', `${prefix}: connection refused`);
    default:
      return down('DNS_ERROR', `${prefix}: ${errorMessage(err)}`);
  }
}
