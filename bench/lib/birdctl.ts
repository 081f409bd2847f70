/**
 * A persistent client for BIRD's control socket (the protocol birdc speaks): one connection,
 * one command at a time. Spawning `birdc` costs several milliseconds per query; a kept-open
 * socket answers `show route count` in well under a millisecond for small tables, which is
 * what lets the bulk benchmark poll the RIB without becoming the bottleneck.
 *
 * Reply format: lines start with a 4-digit code; "CCCC-" continues, "CCCC " ends the reply,
 * a leading space continues the previous line. 8xxx are runtime answers such as "Network not
 * found", 9xxx are errors (a command this client got wrong).
 */
import { createConnection, type Socket } from 'node:net';

export interface BirdReply {
  code: number;
  text: string;
}

export class BirdCtl {
  private buf = '';
  private waiter?: { resolve: (r: BirdReply) => void; reject: (e: Error) => void };
  private closedError?: Error;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('BIRD control socket closed')));
  }

  static async connect(path: string, timeoutMs = 5_000): Promise<BirdCtl> {
    const sock = createConnection(path);
    const ctl = new BirdCtl(sock);
    const hello = await ctl.nextReply(timeoutMs);
    if (hello.code !== 1) throw new Error(`unexpected BIRD greeting: ${hello.text}`);
    return ctl;
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  private onData(d: string): void {
    this.buf += d;
    const end = findReplyEnd(this.buf);
    if (end < 0 || !this.waiter) return;
    const text = this.buf.slice(0, end);
    this.buf = this.buf.slice(end);
    const lastLine = text.trimEnd().split('\n').pop() ?? '';
    const w = this.waiter;
    this.waiter = undefined;
    w.resolve({ code: Number(lastLine.slice(0, 4)), text });
  }

  private nextReply(timeoutMs: number): Promise<BirdReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no reply from BIRD within ${timeoutMs} ms`)), timeoutMs);
      this.waiter = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.onData('');
    });
  }

  async command(cmd: string, timeoutMs = 30_000): Promise<BirdReply> {
    if (this.waiter) throw new Error('BirdCtl: one command at a time');
    const reply = this.nextReply(timeoutMs);
    this.sock.write(cmd + '\n');
    const r = await reply;
    if (r.code >= 9000) throw new Error(`birdc "${cmd}": ${r.text.trim()}`);
    return r;
  }

  /**
   * Routes BIRD holds from one protocol: the channel's "N imported" counter from
   * `show protocols all`, which is O(1). (`show route count` walks the table: ~50 ms at 100,000
   * routes, during which single-threaded BIRD imports nothing, so polling it would slow down
   * the very thing being timed.)
   */
  async routeCount(protocol: string): Promise<number> {
    const r = await this.command(`show protocols all ${protocol}`);
    // A channel that is not up (session not established yet) has no Routes line: none held.
    if (/Channel ipv4\s+State:\s+DOWN/.test(r.text)) return 0;
    const m = /Routes:\s+(\d+) imported/.exec(r.text);
    if (!m) throw new Error(`cannot parse route count of ${protocol}: ${r.text.trim()}`);
    return Number(m[1]);
  }

  /** Routes in master4 from one protocol, counted by walking the table (slow; for cross-checks). */
  async tableCount(protocol: string): Promise<number> {
    const r = await this.command(`show route count table master4 protocol ${protocol}`);
    const m = /(\d+) of \d+ routes/.exec(r.text);
    if (!m) throw new Error(`cannot parse route count: ${r.text.trim()}`);
    return Number(m[1]);
  }

  /** Whether BIRD has a route for exactly `prefix` from `protocol`. */
  async hasRoute(prefix: string, protocol: string): Promise<boolean> {
    const r = await this.command(`show route ${prefix} table master4 protocol ${protocol}`);
    return r.text.includes(prefix);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Index just past the line that ends a reply ("CCCC text\n"), or -1 if none yet. */
function findReplyEnd(buf: string): number {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf('\n', start);
    if (nl < 0) return -1;
    if (/^\d{4} /.test(buf.slice(start, start + 5))) return nl + 1;
    start = nl + 1;
  }
}
