/**
 * Admin HTTP API (issue 2): probes, metrics, VIP and peer state, drain/undrain.
 *
 * Reads are open (they serve probes and Prometheus on a loopback or pod-local address);
 * mutations need `Authorization: Bearer <token>` from admin.token_file, compared in constant
 * time. Without a token file every mutation is refused (403), so an unconfigured instance can
 * never be drained by whoever reaches the port. Paths are matched exactly, bodies are capped,
 * slow clients are cut off by timeouts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { PeerStatus, Readiness } from '../backend/types.js';
import type { VipView } from '../manager/bgp-manager.js';
import type { Registry } from 'prom-client';

/** What the API reads and drives; the app wires it to the manager, backend and health engine. */
export interface AdminSource {
  vips(): VipView[];
  peers(): PeerStatus[];
  readiness(): Readiness;
  liveness(): { ok: boolean; reason: string };
  drain(name: string): boolean;
  undrain(name: string): boolean;
  registry: Registry;
}

export interface AdminOptions {
  host: string;
  port: number;
  /** Current token (re-read on reload); undefined disables mutations. */
  token: () => string | undefined;
  logger: Logger;
}

/** Bodies are never needed; anything beyond this is refused rather than buffered. */
export const MAX_BODY_BYTES = 4096;
const VIP_ACTION = /^\/v1\/vips\/([^/]+)\/(drain|undrain)$/;
const VIP_ONE = /^\/v1\/vips\/([^/]+)$/;
const READ_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/v1/vips', '/v1/peers']);
const VIP_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export class AdminServer {
  private server?: Server;

  constructor(
    private readonly source: AdminSource,
    private readonly opts: AdminOptions,
  ) {}

  async listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.opts.logger.error({ err }, 'admin API handler failed');
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    });
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    server.maxHeadersCount = 50;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    // Only the path is routed; a query string is ignored, anything odd in the path is a 404.
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!(await drainBody(req))) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes` });
    }

    const action = VIP_ACTION.exec(path);
    if (action) {
      if (method !== 'POST') return methodNotAllowed(res, 'POST');
      return this.mutate(req, res, decodeName(action[1]), action[2] as 'drain' | 'undrain');
    }
    if (!READ_PATHS.has(path) && !VIP_ONE.test(path)) return send(res, 404, { error: 'not found' });
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    switch (path) {
      case '/healthz':
        return this.probe(res, this.source.liveness());
      case '/readyz': {
        const r = this.source.readiness();
        return this.probe(res, { ok: r.ready, reason: r.reason });
      }
      case '/metrics': {
        const body = await this.source.registry.metrics();
        res.writeHead(200, { 'content-type': this.source.registry.contentType });
        res.end(body);
        return;
      }
      case '/v1/vips':
        return send(res, 200, this.source.vips());
      case '/v1/peers':
        return send(res, 200, this.source.peers().map(peerView));
    }
    const one = VIP_ONE.exec(path);
    if (one) {
      const name = decodeName(one[1]);
      const vip = this.source.vips().find((v) => v.name === name);
      return vip ? send(res, 200, vip) : send(res, 404, { error: `no VIP named ${JSON.stringify(name)}` });
    }
  }

  private probe(res: ServerResponse, r: { ok: boolean; reason: string }): void {
    send(res, r.ok ? 200 : 503, { status: r.ok ? 'ok' : 'unavailable', reason: r.reason });
  }

  private mutate(req: IncomingMessage, res: ServerResponse, name: string | undefined, action: 'drain' | 'undrain'): void {
    const expected = this.opts.token();
    if (expected === undefined || expected === '') {
      return send(res, 403, { error: 'mutations are disabled: no admin.token_file configured' });
    }
    if (!tokenMatches(req.headers.authorization, expected)) {
      res.setHeader('www-authenticate', 'Bearer realm="vipcast"');
      return send(res, 401, { error: 'missing or wrong bearer token' });
    }
    if (name === undefined || !VIP_NAME.test(name)) return send(res, 404, { error: 'no such VIP' });
    const ok = action === 'drain' ? this.source.drain(name) : this.source.undrain(name);
    if (!ok) return send(res, 404, { error: `no VIP named ${JSON.stringify(name)}` });
    this.opts.logger.info({ vip: name, action, remote: req.socket.remoteAddress }, 'admin API request');
    send(res, 202, this.source.vips().find((v) => v.name === name));
  }
}

/** Constant-time comparison of the presented bearer token with the expected one. */
export function tokenMatches(header: string | undefined, expected: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function decodeName(raw: string | undefined): string | undefined {
  try {
    return raw === undefined ? undefined : decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function peerView(p: PeerStatus): Record<string, unknown> {
  return {
    address: p.address,
    port: p.port,
    remote_as: p.remoteAs,
    description: p.description,
    state: p.state,
    since: p.since.toISOString(),
    reason: p.reason,
    advertised: p.advertised,
  };
}

/** Reads and discards the body; false (and the socket cut) when it exceeds the cap. */
async function drainBody(req: IncomingMessage): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return false;
  let seen = 0;
  for await (const chunk of req) {
    seen += (chunk as Buffer).length;
    if (seen > MAX_BODY_BYTES) return false;
  }
  return true;
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  send(res, 405, { error: 'method not allowed' });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}
