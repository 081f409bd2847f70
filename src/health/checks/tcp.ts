/**
 * tcp check: a real connect() to host:port; up when the handshake completes. The passing
 * socket is offered to the TcpHolder for passive detection, otherwise closed at once.
 *
 * With connect_interval (passive only), a run passes without connecting while the holder has
 * a connection to the target open and the last fresh connect is younger than the interval
 * (about half a tcp check's CPU is the kernel's connect and reset; docs/perf-health.md). The
 * outcome says which: "held connection open" or "connected".
 */
import { connect, type Socket } from 'node:net';
import type { TcpHolder } from '../passive/tcp-holder.js';
import type { TcpCheckSpec } from '../types.js';
import { connectCode, down, errorMessage, ok, runViaStart, type Checker, type Outcome, type PassiveListener, type RunningCheck } from './types.js';

export class TcpChecker implements Checker {
  readonly spec: TcpCheckSpec;
  readonly #holder: TcpHolder;
  /** Outcomes are read-only once made: one for every passing run. */
  readonly #connected: Outcome;
  readonly #heldOpen: Outcome;

  constructor(spec: TcpCheckSpec, holder: TcpHolder) {
    this.spec = spec;
    this.#holder = holder;
    this.#connected = ok(`connected to ${spec.host}:${spec.port}`);
    this.#heldOpen = ok(`held connection open to ${spec.host}:${spec.port}`);
  }

  run(signal: AbortSignal): Promise<Outcome> {
    return runViaStart((done) => this.start(done), signal, () => this.#aborted());
  }

  /** The runner's callback form: no promise or abort signal per run (see Checker.start). */
  start(done: (outcome: Outcome) => void): RunningCheck {
    const { host, port, connectIntervalMs } = this.spec;
    if (connectIntervalMs !== undefined && this.#holder.holdsFresh(host, port, connectIntervalMs)) {
      // The runner allows a synchronous answer (it counts a round's checks before they start).
      done(this.#heldOpen);
      return { cancel: () => undefined };
    }
    const socket: Socket = connect({ host, port });
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      done(outcome);
    };
    socket.once('connect', () => {
      if (!this.#holder.offer(host, port, socket)) closeAbortively(socket);
      finish(this.#connected);
    });
    socket.once('error', (err) => {
      socket.destroy();
      finish(down(connectCode(err), `tcp ${errorMessage(err)}`));
    });
    return {
      cancel: () => {
        if (settled) return;
        socket.destroy();
        finish(this.#aborted());
      },
    };
  }

  watch(listener: PassiveListener): () => void {
    return this.#holder.subscribe(this.spec.host, this.spec.port, listener);
  }

  #aborted(): Outcome {
    return down('TIMEOUT', `tcp connect to ${this.spec.host}:${this.spec.port} aborted`);
  }
}

/**
 * Close with RST instead of FIN: the side that closes first keeps TIME_WAIT for a minute, and
 * a thousand checks a second against one target would exhaust ephemeral ports (HAProxy closes
 * its health-check connections the same way).
 */
function closeAbortively(socket: Socket): void {
  socket.resetAndDestroy();
}
