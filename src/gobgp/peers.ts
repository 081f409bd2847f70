/**
 * Neighbors in GoBGP: bgp.neighbors as API Peer messages (manage: true), and the session state
 * the daemon reports (WatchEvent peer events or ListPeer) as PeerStatus with RFC 4271 names.
 */
import { readSecretFile } from '../net/secret-file.js';
import type { AddressFamily, NeighborSpec, PeerListener, PeerState, PeerStatus } from '../backend/types.js';
import type { ApiPeer, ApiTimestamp } from './api/types.js';
import { FAMILIES } from './paths.js';
import { GobgpError } from './errors.js';

/**
 * GoBGP's default connect retry is 120 s; a VIP advertiser wants its sessions back sooner. It
 * paces the attempts after a failed one (router not listening yet, or refusing): v3.37 waits
 * connect_retry..2x, v4.8 0.75x..1x (never below its own floor of 2 s), so 2 s brings a router
 * that starts listening late up in 0.5-2 s instead of 3-7 s with 5 (test/gobgp/bringup.test.ts).
 * The dial timeout is derived from it too (v3.37: connect_retry - 1, at least 1 s; v4: at least
 * 2 s), which is still far above a SYN round trip to a directly connected router. It does not
 * touch the first attempt after AddPeer or after a session drop: GoBGP waits a fixed 1-2 s
 * (v3.37, v4) or 5-9 s (3.10) for that, after a fixed 5 s Idle following a drop; 3.10 also
 * raises any connect_retry below 5 to 5.
 */
export const CONNECT_RETRY_SEC = 2;

/** TCP-MD5 password from a file (src/net/secret-file.ts: one trailing newline trimmed). */
export async function readPassword(file: string): Promise<string> {
  try {
    return await readSecretFile(file);
  } catch (err) {
    throw new GobgpError('GOBGP_PASSWORD_FILE', `cannot read neighbor password_file ${file}: ${(err as Error).message}`, {}, { cause: err });
  }
}

/** The Peer message for AddPeer/UpdatePeer. */
export function neighborToPeer(n: NeighborSpec, password: string | undefined): ApiPeer {
  const hold = n.holdTimeSec;
  return {
    conf: { neighbor_address: n.address, peer_asn: n.remoteAs, description: n.description ?? '', auth_password: password ?? '' },
    ebgp_multihop: n.ebgpMultihop > 0 ? { enabled: true, multihop_ttl: n.ebgpMultihop } : { enabled: false, multihop_ttl: 0 },
    timers: {
      config: {
        hold_time: hold,
        // RFC 4271 §10: a third of the hold time; 0 disables keepalives along with the hold timer.
        keepalive_interval: hold === 0 ? 0 : Math.max(1, Math.floor(hold / 3)),
        connect_retry: CONNECT_RETRY_SEC,
      },
    },
    transport: { local_address: n.localAddress ?? '', remote_port: n.port, passive_mode: n.passive },
    afi_safis: n.families.map((f: AddressFamily) => ({ config: { family: FAMILIES[f], enabled: true } })),
  };
}

const famKey = (p: ApiPeer): string =>
  (p.afi_safis ?? [])
    .filter((a) => a.config?.enabled !== false)
    .map((a) => `${a.config?.family?.afi ?? 0}/${a.config?.family?.safi ?? 0}`)
    .sort()
    .join(',');

/**
 * Does the daemon's peer differ from the wanted one in anything vipcast configures? Compares only
 * those fields: ListPeer also returns defaults and state, which are not ours to judge. The
 * password is always compared (3.10, v3.37.0 and v4.8.0 all return it from ListPeer, asserted in
 * test/gobgp/peer-config), so adding one to a neighbor that had none is sent too; the text
 * returned names what changed about it, never the password itself (it is logged).
 * connect_retry is not compared: it only paces reconnects, and GoBGP 3.10 answers any UpdatePeer,
 * even a timer-only one, by resetting the session (v3.37 and v4 do not; test/gobgp interop), so a
 * peer an older vipcast added with another value keeps it until the daemon restarts bare.
 */
export function peerDiffers(have: ApiPeer, want: ApiPeer): string | undefined {
  const checks: Array<[string, unknown, unknown]> = [
    ['peer_asn', have.conf?.peer_asn ?? 0, want.conf?.peer_asn ?? 0],
    ['description', have.conf?.description ?? '', want.conf?.description ?? ''],
    ['ebgp_multihop', have.ebgp_multihop?.enabled ? (have.ebgp_multihop.multihop_ttl ?? 0) : 0, want.ebgp_multihop?.enabled ? want.ebgp_multihop.multihop_ttl : 0],
    ['hold_time', have.timers?.config?.hold_time ?? 0, want.timers?.config?.hold_time ?? 0],
    // Without a configured local address gobgpd reports the one the kernel picked for the
    // session; that is not a difference (comparing it re-created the peer on every resync).
    ['local_address', normAddr(want.transport?.local_address) ? normAddr(have.transport?.local_address) : '', normAddr(want.transport?.local_address)],
    ['remote_port', have.transport?.remote_port || 179, want.transport?.remote_port || 179],
    ['passive_mode', !!have.transport?.passive_mode, !!want.transport?.passive_mode],
    ['families', famKey(have), famKey(want)],
  ];
  const diff = checks.find(([, a, b]) => a !== b);
  if (diff) return `${diff[0]}: ${String(diff[1])} -> ${String(diff[2])}`;
  return passwordChange(have.conf?.auth_password ?? '', want.conf?.auth_password ?? '');
}

/** TCP-MD5 password difference, in words that never contain either password. */
function passwordChange(have: string, want: string): string | undefined {
  if (have === want) return undefined;
  if (!have) return 'password: set';
  return want ? 'password: changed' : 'password: removed';
}

/** GoBGP reports an unset local address as "", "0.0.0.0" or "::". */
const normAddr = (a: string | undefined): string => (!a || a === '0.0.0.0' || a === '::' ? '' : a);

const STATES: Array<PeerState | undefined> = [undefined, 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];

/** v4 PeerState.DisconnectReason, as words. */
const DISCONNECT_REASONS = [
  '',
  'administratively down',
  'hold timer expired',
  'NOTIFICATION sent',
  'NOTIFICATION received',
  'read failed',
  'write failed',
  'idle timer expired',
  'restart timer expired',
  'graceful restart',
  'invalid message',
  'hard reset',
  'deconfigured',
  'bad peer AS',
];

export function sessionState(p: ApiPeer): PeerState {
  return STATES[p.state?.session_state ?? 0] ?? 'idle';
}

function disconnectReason(p: ApiPeer): string | undefined {
  const s = p.state;
  if (!s) return undefined;
  const words = DISCONNECT_REASONS[s.disconnect_reason ?? 0] ?? '';
  const text = [words, s.disconnect_message ?? ''].filter(Boolean).join(': ');
  if (text) return text;
  if (s.admin_state === 2 /* v4 ADMIN_STATE_DOWN */) return 'administratively down';
  return undefined;
}

const toDate = (t: ApiTimestamp | undefined): Date | undefined => (t?.seconds ? new Date(t.seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6)) : undefined);

/**
 * The peer states vipcast reports, keyed by neighbor address. Fed with Peer messages from
 * ListPeer (initial) and WatchEvent (changes); tells listeners about every state change.
 */
export class PeerTracker {
  private readonly peers = new Map<string, PeerStatus>();
  private readonly listeners: PeerListener[] = [];

  constructor(private neighbors: NeighborSpec[]) {}

  setNeighbors(neighbors: NeighborSpec[]): void {
    this.neighbors = neighbors;
  }

  onChange(l: PeerListener): void {
    this.listeners.push(l);
  }

  list(): PeerStatus[] {
    return [...this.peers.values()].map((p) => ({ ...p }));
  }

  /** A Peer message from ListPeer or a WatchEvent; `initial` uses the daemon's up/down time for `since`. */
  update(p: ApiPeer, initial: boolean, now = new Date()): void {
    const address = p.state?.neighbor_address || p.conf?.neighbor_address;
    if (!address) return;
    const spec = this.neighbors.find((n) => n.address === address);
    const state = sessionState(p);
    const prev = this.peers.get(address);
    if (prev && prev.state === state) return;
    const daemonSince = state === 'established' ? toDate(p.timers?.state?.uptime) : toDate(p.timers?.state?.downtime);
    const status: PeerStatus = {
      address,
      port: p.transport?.remote_port || spec?.port || 179,
      remoteAs: p.state?.peer_asn || p.conf?.peer_asn || spec?.remoteAs || 0,
      description: spec?.description ?? (p.conf?.description || undefined),
      state,
      since: (initial && daemonSince) || now,
      reason: state === 'established' ? undefined : disconnectReason(p),
    };
    this.peers.set(address, status);
    this.emit(status);
  }

  /** Keep only these addresses (a peer deleted from the daemon disappears from /v1/peers). */
  retain(addresses: Set<string>): void {
    for (const a of [...this.peers.keys()]) if (!addresses.has(a)) this.peers.delete(a);
  }

  /** The daemon is gone, and with it every session. */
  allDown(reason: string, now = new Date()): void {
    for (const p of this.peers.values()) {
      if (p.state === 'idle' && p.reason === reason) continue;
      p.state = 'idle';
      p.since = now;
      p.reason = reason;
      this.emit({ ...p });
    }
  }

  private emit(status: PeerStatus): void {
    for (const l of this.listeners) l({ ...status });
  }
}
