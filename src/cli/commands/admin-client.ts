/**
 * `vipcast status`, `vipcast drain NAME`, `vipcast undrain NAME`: clients of a running
 * instance's admin API. The address comes from --admin, $VIPCAST_ADMIN, or the config file's
 * admin.listen; the token for drain/undrain from --token-file, $VIPCAST_TOKEN or the config's
 * admin.token_file.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { VipcastConfig } from '../../config/types.js';
import { formatHostPort } from '../../config/net.js';
import type { VipView } from '../../manager/bgp-manager.js';
import { DEFAULT_ADMIN_URL, readTokenFrom, UsageError } from '../options.js';
import { renderTable } from '../table.js';

interface ClientOptions {
  admin?: string;
  config?: string;
  tokenFile?: string;
  json?: boolean;
}

interface PeerRow {
  address: string;
  port: number;
  remote_as: number;
  state: string;
  since: string;
  reason?: string;
  advertised?: number;
}

const REQUEST_TIMEOUT_MS = 5_000;

export function registerAdminClient(program: Command): void {
  const common = (cmd: Command): Command =>
    cmd
      .option('--admin <url>', `admin API URL (default: $VIPCAST_ADMIN, the config's admin.listen, or ${DEFAULT_ADMIN_URL})`)
      .option('-c, --config <file>', 'config file to read admin.listen and admin.token_file from (default: $VIPCAST_CONFIG)');
  common(program.command('status').description('show VIPs and BGP peers of a running vipcast'))
    .option('--json', 'print the raw JSON')
    .action(async (opts: ClientOptions) => {
      process.exitCode = await status(opts);
    });
  for (const action of ['drain', 'undrain'] as const) {
    common(program.command(`${action} <name>`).description(action === 'drain' ? 'withdraw a VIP in order (GRACEFUL_SHUTDOWN, grace period, withdraw) until undrained' : 'end a drain started with `vipcast drain`'))
      .option('--token-file <file>', 'file holding the admin token (default: $VIPCAST_TOKEN or the config\'s admin.token_file)')
      .action(async (name: string, opts: ClientOptions) => {
        process.exitCode = await mutate(action, name, opts);
      });
  }
}

async function target(opts: ClientOptions): Promise<{ url: string; config?: VipcastConfig }> {
  const file = opts.config ?? process.env.VIPCAST_CONFIG;
  const config = file ? await loadConfig(file) : undefined;
  if (opts.admin) return { url: opts.admin.replace(/\/$/, ''), config };
  if (process.env.VIPCAST_ADMIN) return { url: process.env.VIPCAST_ADMIN.replace(/\/$/, ''), config };
  if (config) {
    // A wildcard listen address is reached through loopback.
    const host = config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host === '::' ? '::1' : config.admin.host;
    return { url: `http://${formatHostPort(host, config.admin.port)}`, config };
  }
  return { url: DEFAULT_ADMIN_URL };
}

async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UsageError(`cannot reach the vipcast admin API at ${url}: ${cause}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the message
  }
  return { status: res.status, body };
}

async function status(opts: ClientOptions): Promise<number> {
  const { url } = await target(opts);
  const [vips, peers] = await Promise.all([request(`${url}/v1/vips`), request(`${url}/v1/peers`)]);
  if (vips.status !== 200 || peers.status !== 200) {
    process.stderr.write(`admin API answered ${vips.status}/${peers.status}\n`);
    return 1;
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ vips: vips.body, peers: peers.body }, null, 2) + '\n');
    return 0;
  }
  const vipRows = (vips.body as VipView[]).map((v) => [v.name, v.prefix, v.state, v.advertised ? 'yes' : 'no', v.since, v.reason]);
  const peerRows = (peers.body as PeerRow[]).map((p) => [`${p.address}:${p.port}`, String(p.remote_as), p.state, p.since, p.advertised === undefined ? '-' : String(p.advertised), p.reason ?? '']);
  process.stdout.write(renderTable(['VIP', 'PREFIX', 'STATE', 'ADVERTISED', 'SINCE', 'REASON'], vipRows) + '\n');
  process.stdout.write(renderTable(['PEER', 'AS', 'STATE', 'SINCE', 'ROUTES', 'REASON'], peerRows) + '\n');
  return 0;
}

async function mutate(action: 'drain' | 'undrain', name: string, opts: ClientOptions & { tokenFile?: string }): Promise<number> {
  const { url, config } = await target(opts);
  const token = await readTokenFrom(opts.tokenFile, config?.admin.tokenFile);
  if (!token) throw new UsageError('no admin token: pass --token-file, set VIPCAST_TOKEN, or pass --config with admin.token_file');
  const res = await request(`${url}/v1/vips/${encodeURIComponent(name)}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 202) {
    const msg = typeof res.body === 'object' && res.body !== null && 'error' in res.body ? String(res.body.error) : String(res.body);
    process.stderr.write(`${action} ${name}: ${res.status} ${msg}\n`);
    return 1;
  }
  const vip = res.body as VipView;
  process.stdout.write(`${vip.name}: ${vip.state} (${vip.reason})\n`);
  return 0;
}
