/**
 * Where a diff goes on its way to the daemon, fed while it is still being computed: the
 * backend encodes the desired set a chunk at a time and hands each chunk's changes here, so
 * the first paths are on the wire while the rest are encoded (for 10,000 new VIPs, encoding
 * and serialising everything before the first byte cost about as long as GoBGP takes to send
 * the first few thousand routes on).
 *
 * Few changes (at most STREAM_THRESHOLD): one unary AddPath/DeletePath per path, each
 * acknowledged on its own, withdrawals first. More: one AddPathStream, opened as soon as the
 * count passes the threshold, a message per `batchSize` paths, acknowledged as a whole when the
 * daemon answers the half-close (it handles each message before reading the next).
 */
import type { GobgpClient, PathStream } from './api/client.js';
import type { ApiPath } from './api/types.js';
import { withdrawal, type OwnPath } from './paths.js';

/** Below this many changes, unary AddPath/DeletePath per VIP; above, one AddPathStream. */
export const STREAM_THRESHOLD = 16;

/** Paths per AddPathStream message (GoBGP's own CLI and the bench's baseline use 1,000 too). */
export const STREAM_BATCH = 1000;

interface Change {
  path: ApiPath;
  withdraw: boolean;
}

export class PathSink {
  /** Changes held back while it is not yet known whether they are few (unary) or many (stream). */
  private held: Change[] = [];
  /** Paths waiting for a full stream message. */
  private batch: ApiPath[] = [];
  private stream?: PathStream;
  private count = 0;

  constructor(
    private readonly client: GobgpClient,
    private readonly batchSize = STREAM_BATCH,
  ) {}

  /** How many changes were handed in so far. */
  get total(): number {
    return this.count;
  }

  /** Withdrawals must all be handed in before the first add (the unary order depends on it). */
  async withdraw(paths: readonly OwnPath[]): Promise<void> {
    for (const p of paths) if (this.put({ path: withdrawal(p), withdraw: true })) await this.flush();
  }

  async add(paths: readonly OwnPath[]): Promise<void> {
    for (const p of paths) if (this.put({ path: p.path, withdraw: false })) await this.flush();
  }

  /**
   * Sends what is pending; for a stream, the rest of the message now rather than once it is
   * full (called after each chunk of encoding, so the daemon never waits for a whole message).
   */
  async flush(): Promise<void> {
    if (!this.stream || this.batch.length === 0) return;
    const paths = this.batch;
    this.batch = [];
    await this.stream.write(paths);
  }

  /** Everything handed in, acknowledged by the daemon. */
  async finish(): Promise<void> {
    if (!this.stream) {
      for (const c of this.held) if (c.withdraw) await this.client.deletePath(c.path);
      for (const c of this.held) if (!c.withdraw) await this.client.addPath(c.path);
      this.held = [];
      return;
    }
    await this.flush();
    await this.stream.end();
  }

  /** Abandons an open stream after a failure (what the daemon read stays applied). */
  cancel(): void {
    this.stream?.cancel();
  }

  /** Takes one change; true when a stream message is full and should be sent before the next. */
  private put(c: Change): boolean {
    this.count++;
    if (!this.stream) {
      this.held.push(c);
      if (this.held.length <= STREAM_THRESHOLD) return false;
      this.stream = this.client.openPathStream();
      this.batch = this.held.map((h) => h.path);
      this.held = [];
    } else {
      this.batch.push(c.path);
    }
    return this.batch.length >= this.batchSize;
  }
}
