/**
 * Each check type against real servers on loopback: up, and down with the right code and
 * reason for each failure class. Every result goes through a real engine round (timeouts
 * included).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { startDnsServer, type DnsServer } from './helpers/dns-server.js';
import { startGrpcHealthServer, type GrpcHealthServer } from './helpers/grpc-server.js';
import { checkOnce } from './helpers/once.js';
import { selfSignedCert } from './helpers/tls.js';
import { dnsSpec, execSpec, grpcSpec, httpSpec, tcpSpec, vip } from './helpers/vip.js';
import { HealthEngine } from '../../src/health/engine.js';
import type { CheckerFactory } from '../../src/health/checks/index.js';
import type { Outcome } from '../../src/health/checks/types.js';
import type { CheckResult, HealthPolicy } from '../../src/health/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { FakeClock } from './helpers/fake-clock.js';

const closers: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function listen(server: net.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: http.Server | net.Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('http(s) check', () => {
  const host = loopbackAddress();
  let base = '';
  let tlsBase = '';

  beforeAll(async () => {
    const handler: http.RequestListener = (req, res) => {
      if (req.url === '/ok') res.end('all ok');
      else if (req.url === '/503') res.writeHead(503).end('overloaded');
      else if (req.url === '/head') res.writeHead(req.method === 'HEAD' && req.headers['x-check'] === 'yes' ? 204 : 400).end();
      else if (req.url === '/hang') return; // never answers
      else res.writeHead(404).end();
    };
    const server = http.createServer(handler);
    base = `http://${host}:${await listen(server, host)}`;
    closers.push(() => closeServer(server));
    const tlsServer = https.createServer(selfSignedCert(), handler);
    tlsBase = `https://${host}:${await listen(tlsServer, host)}`;
    closers.push(() => closeServer(tlsServer));
  });

  it('is up on an expected status', async () => {
    expect(await checkOnce(httpSpec(`${base}/ok`, { bodyContains: 'ok' }))).toMatchObject({ ok: true, code: 'OK', reason: 'http status 200', detector: 'initial' });
  });

  it('is down on a status outside the ranges', async () => {
    expect(await checkOnce(httpSpec(`${base}/503`, { expectStatus: [[200, 299], [301, 302]] }))).toMatchObject({ ok: false, code: 'HTTP_STATUS', reason: 'http status 503 not in 200-299,301-302' });
  });

  it('is down when the body lacks the expected text', async () => {
    expect(await checkOnce(httpSpec(`${base}/ok`, { bodyContains: 'healthy' }))).toMatchObject({ ok: false, code: 'HTTP_BODY' });
  });

  it('sends the configured method and headers', async () => {
    expect(await checkOnce(httpSpec(`${base}/head`, { method: 'HEAD', headers: { 'x-check': 'yes' } }))).toMatchObject({ ok: true, reason: 'http status 204' });
    expect(await checkOnce(httpSpec(`${base}/head`))).toMatchObject({ ok: false, code: 'HTTP_STATUS' });
  });

  it('is down when the connection is refused', async () => {
    const port = await freePort(host);
    const r = await checkOnce(httpSpec(`http://${host}:${port}/`));
    expect(r).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
    expect(r.reason).toContain('ECONNREFUSED');
  });

  it('is down at the timeout when the server never answers', async () => {
    const r = await checkOnce(httpSpec(`${base}/hang`), { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
    expect(r.durationMs).toBeLessThan(300 + 250 + 1_000);
  });

  it('https: verifies the certificate unless tls_skip_verify', async () => {
    expect(await checkOnce(httpSpec(`${tlsBase}/ok`, { tlsSkipVerify: true }))).toMatchObject({ ok: true, code: 'OK' });
    const strict = await checkOnce(httpSpec(`${tlsBase}/ok`));
    expect(strict).toMatchObject({ ok: false, code: 'HTTP_ERROR' });
    expect(strict.reason).toMatch(/certificate/i);
  });
});

describe('tcp check', () => {
  it('is up when a listener accepts, down when refused', async () => {
    const host = loopbackAddress();
    const server = net.createServer((s) => s.on('error', () => undefined));
    const port = await listen(server, host);
    closers.push(() => closeServer(server));
    expect(await checkOnce(tcpSpec(host, port))).toMatchObject({ ok: true, code: 'OK' });
    const closed = await freePort(host);
    const r = await checkOnce(tcpSpec(host, closed));
    expect(r).toMatchObject({ ok: false, code: 'CONNECT_REFUSED' });
    expect(r.reason).toContain('ECONNREFUSED');
  });
});

describe('dns check', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    dns = await startDnsServer(loopbackAddress(), new Map([['svc.test', { A: ['192.0.2.1', '192.0.2.2'], AAAA: ['2001:db8::1'] }], ['v4only.test', { A: ['192.0.2.9'] }]]));
    closers.push(() => dns.close());
  });

  it('is up when the record resolves (and matches expect)', async () => {
    expect(await checkOnce(dnsSpec(dns.host, dns.port, 'svc.test', 'A', { expect: ['192.0.2.2'] }))).toMatchObject({ ok: true, reason: 'dns A svc.test: 192.0.2.1,192.0.2.2' });
    expect(await checkOnce(dnsSpec(dns.host, dns.port, 'svc.test', 'AAAA'))).toMatchObject({ ok: true, reason: 'dns AAAA svc.test: 2001:db8::1' });
  });

  it('is down on NXDOMAIN, SERVFAIL, no data, a mismatch and a timeout', async () => {
    expect(await checkOnce(dnsSpec(dns.host, dns.port, 'missing.test', 'A'))).toMatchObject({ ok: false, code: 'DNS_NXDOMAIN' });
    expect(await checkOnce(dnsSpec(dns.host, dns.port, 'servfail.test', 'A'))).toMatchObject({ ok: false, code: 'DNS_SERVFAIL' });
    expect(await checkOnce(dnsSpec(dns.host, dns.port, 'v4only.test', 'AAAA'))).toMatchObject({ ok: false, code: 'DNS_NODATA' });
    expect(await checkOnce(dnsSpec(dns.host, dns.port, 'svc.test', 'A', { expect: ['198.51.100.1'] }))).toMatchObject({ ok: false, code: 'DNS_MISMATCH' });
    const r = await checkOnce(dnsSpec(dns.host, dns.port, 'drop.test', 'A'), { timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(r.durationMs).toBeLessThan(300 + 250 + 1_000);
  });
});

describe('grpc check', () => {
  let srv: GrpcHealthServer;
  beforeAll(async () => {
    srv = await startGrpcHealthServer(loopbackAddress(), { '': 'SERVING', api: 'SERVING', batch: 'NOT_SERVING' });
    closers.push(() => srv.kill());
  });

  it('is up on SERVING, for the server and for a named service', async () => {
    expect(await checkOnce(grpcSpec(srv.host, srv.port, ''))).toMatchObject({ ok: true, reason: 'grpc SERVING' });
    expect(await checkOnce(grpcSpec(srv.host, srv.port, 'api'))).toMatchObject({ ok: true });
  });

  it('speaks TLS, verifying the certificate unless tls_skip_verify', async () => {
    const { key, cert } = selfSignedCert();
    const tlsSrv = await startGrpcHealthServer(loopbackAddress(), { '': 'SERVING' }, { credentials: grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }]) });
    closers.push(() => tlsSrv.kill());
    expect(await checkOnce(grpcSpec(tlsSrv.host, tlsSrv.port, '', { tls: true, tlsSkipVerify: true }))).toMatchObject({ ok: true, reason: 'grpc SERVING' });
    expect(await checkOnce(grpcSpec(tlsSrv.host, tlsSrv.port, '', { tls: true }), { timeoutMs: 2_000 })).toMatchObject({ ok: false, code: 'GRPC_UNAVAILABLE' });
  });

  it('is down on NOT_SERVING, an unknown service and a refused connection', async () => {
    expect(await checkOnce(grpcSpec(srv.host, srv.port, 'batch'))).toMatchObject({ ok: false, code: 'GRPC_NOT_SERVING', reason: 'grpc NOT_SERVING' });
    expect(await checkOnce(grpcSpec(srv.host, srv.port, 'nope'))).toMatchObject({ ok: false, code: 'GRPC_SERVICE_UNKNOWN' });
    const port = await freePort(srv.host);
    expect(await checkOnce(grpcSpec(srv.host, port, ''))).toMatchObject({ ok: false, code: 'GRPC_UNAVAILABLE' });
  });
});

describe('exec check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipcast-exec-'));
  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('is up on exit 0 and down on a non-zero exit, with the output in the reason', async () => {
    expect(await checkOnce(execSpec([script('ok.sh', 'echo fine')]))).toMatchObject({ ok: true, reason: 'exec exit 0: fine' });
    expect(await checkOnce(execSpec([script('fail.sh', 'echo "db is read-only" >&2; exit 3')]))).toMatchObject({ ok: false, code: 'EXEC_EXIT', reason: 'exec exit 3: db is read-only' });
  });

  it('is down, not crashed, when the binary is missing', async () => {
    const r = await checkOnce(execSpec(['/nonexistent/vipcast-check', '--quick']));
    expect(r).toMatchObject({ ok: false, code: 'EXEC_ENOENT' });
    expect(r.reason).toMatch(/^exec ENOENT \/nonexistent\/vipcast-check/);
  });

  it('kills the whole process group of a hung check at the timeout', async () => {
    const pids = join(dir, 'hang.pids');
    const hang = script('hang.sh', `sleep 300 & echo "$$ $!" > ${pids}\nwait`);
    const r = await checkOnce(execSpec([hang]), { timeoutMs: 500 });
    expect(r).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(r.reason).toContain('process group killed');
    expect(r.durationMs).toBeLessThan(500 + 250 + 1_000);
    const [leader, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    await waitFor(() => gone(leader!) && gone(child!), { timeoutMs: 5_000, what: `processes ${leader} and ${child} to be gone` });
    expect(groupGone(leader!)).toBe(true);
  });

  it('kills a running check when the engine stops', async () => {
    const pids = join(dir, 'stop.pids');
    const hang = script('stop.sh', `sleep 300 & echo "$$ $!" > ${pids}\nwait`);
    const engine = new HealthEngine([vip('x', [execSpec([hang])], { timeoutMs: 60_000 })], { logger: silentLogger });
    engine.start();
    const text = await waitFor(() => (existsSync(pids) ? readFileSync(pids, 'utf8').trim() : undefined), { timeoutMs: 10_000, what: 'the script to start' });
    const [leader, child] = text.split(' ').map(Number);
    await engine.stop();
    await waitFor(() => gone(leader!) && gone(child!), { timeoutMs: 5_000, what: 'the process group to be gone after stop()' });
    expect(groupGone(leader!)).toBe(true);
  });

  it('leaves no forked child behind after a normal exit', async () => {
    const pidFile = join(dir, 'fork.pid');
    const fork = script('fork.sh', `sleep 300 & echo $! > ${pidFile}\nexit 0`);
    expect(await checkOnce(execSpec([fork]))).toMatchObject({ ok: true });
    const child = Number(readFileSync(pidFile, 'utf8').trim());
    await waitFor(() => gone(child), { timeoutMs: 5_000, what: `forked child ${child} to be gone` });
  });
});

/** Gone, or a zombie waiting for a reaper (it no longer runs). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** No live (non-zombie) process left in the process group, read from /proc. */
function groupGone(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return false;
  }
  return true;
}

/**
 * The runner's callback path (Checker.start, what http and tcp checks use): fake clock, exact
 * timings, checkers scripted to answer at once, late, never, or to throw.
 */
describe('checkers with start() (callback form)', () => {
  type Mode = 'ok' | 'sync-fail' | 'never' | 'cancel-settles' | 'throws';
  interface Script {
    mode: Mode;
    starts: number;
    cancels: number;
    pending: Array<(o: Outcome) => void>;
  }

  function rig(script: Script, over: Partial<HealthPolicy> = {}) {
    const clock = new FakeClock();
    const results: CheckResult[] = [];
    const spec = tcpSpec('127.0.0.1', 1);
    const factory: CheckerFactory = (s) => ({
      spec: s,
      run: () => Promise.reject(new Error('run() must not be used when start() exists')),
      start(done) {
        script.starts++;
        if (script.mode === 'throws') throw new Error('boom');
        if (script.mode === 'ok') done({ ok: true, code: 'OK', reason: 'fine' });
        else if (script.mode === 'sync-fail') done({ ok: false, code: 'CONNECT_REFUSED', reason: 'refused' });
        else script.pending.push(done);
        return {
          cancel() {
            script.cancels++;
            if (script.mode === 'cancel-settles') done({ ok: false, code: 'TIMEOUT', reason: 'aborted by the check itself' });
          },
        };
      },
    });
    const engine = new HealthEngine([vip('cb', [spec], { intervalMs: 2_000, fastIntervalMs: 1_000, timeoutMs: 400, rise: 1, fall: 1, jitter: 0, ...over })], {
      logger: silentLogger,
      clock,
      random: () => 0,
      createChecker: factory,
      onCheckResult: (_v, _c, r) => results.push(r),
    });
    return { clock, engine, results };
  }

  const script = (mode: Mode): Script => ({ mode, starts: 0, cancels: 0, pending: [] });

  it('a check answering synchronously from start() completes its round and the VIP comes up', async () => {
    const s = script('ok');
    const { clock, engine, results } = rig(s);
    engine.start();
    await clock.advance(0);
    expect(results).toEqual([expect.objectContaining({ ok: true, reason: 'fine', durationMs: 0 })]);
    expect(engine.status('cb')?.healthy).toBe(true);
    await clock.advance(2_000);
    expect(s.starts).toBe(2);
    await engine.stop();
  });

  it('a cancel that settles gives the check\'s own reason at the timeout', async () => {
    const s = script('cancel-settles');
    const { clock, engine, results } = rig(s);
    engine.start();
    await clock.advance(399);
    expect(results).toHaveLength(0);
    await clock.advance(1);
    expect(s.cancels).toBe(1);
    expect(results).toEqual([expect.objectContaining({ ok: false, code: 'TIMEOUT', reason: 'aborted by the check itself', durationMs: 400 })]);
    await engine.stop();
  });

  it('a check that ignores cancel: TIMEOUT after the grace, STUCK (not restarted) until it answers, then it runs again', async () => {
    const s = script('never');
    const { clock, engine, results } = rig(s);
    engine.start();
    await clock.advance(400);
    expect(s.cancels).toBe(1);
    expect(results).toHaveLength(0);
    await clock.advance(250);
    expect(results[0]).toMatchObject({ ok: false, code: 'TIMEOUT', durationMs: 650 });
    expect(results[0]?.reason).toContain('did not stop when aborted');
    // Next round (fall 1: the VIP is settled down, normal interval) finds it still running.
    await clock.advance(2_000);
    expect(results[1]).toMatchObject({ ok: false, code: 'STUCK' });
    expect(s.starts).toBe(1);
    // It finally answers (late: not counted), and the following round starts it afresh.
    s.mode = 'ok';
    s.pending.shift()?.({ ok: true, code: 'OK', reason: 'late' });
    await clock.advance(2_000);
    expect(s.starts).toBe(2);
    expect(results.slice(2)).toEqual([expect.objectContaining({ ok: true, reason: 'fine' })]);
    expect(results.some((r) => r.reason === 'late')).toBe(false);
    await engine.stop();
  });

  it('start() throwing is a down result with code INTERNAL, and the schedule goes on', async () => {
    const s = script('throws');
    const { clock, engine, results } = rig(s);
    engine.start();
    await clock.advance(2_000);
    expect(results.map((r) => r.code)).toEqual(['INTERNAL', 'INTERNAL']);
    expect(results[0]?.reason).toContain('boom');
    await engine.stop();
  });

  it('stop() cancels a running check and returns once it settles (or after the grace)', async () => {
    const s = script('never');
    const { clock, engine } = rig(s);
    engine.start();
    await clock.advance(100);
    let stopped = false;
    const stopping = engine.stop().then(() => (stopped = true));
    await clock.advance(0);
    expect(s.cancels).toBe(1);
    expect(stopped).toBe(false);
    await clock.advance(250);
    await stopping;
    expect(stopped).toBe(true);
  });
});
