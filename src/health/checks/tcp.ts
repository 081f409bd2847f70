/**
 * tcp check: a real connect() to host:port; up when the handshake completes. The passing
 * socket is offered to the TcpHolder for passive detection, otherwise closed at once.
 */
import { connect, type Socket } from 'node:net';
import type { TcpHolder } from '../passive/tcp-holder.js';
import type { TcpCheckSpec } from '../types.js';
import { connectCode, down, errorMessage, ok, type Checker, type Outcome, type PassiveListener } from './types.js';

export class TcpChecker implements Checker {
  readonly spec: TcpCheckSpec;
  readonly #holder: TcpHolder;

  constructor(spec: TcpCheckSpec, holder: TcpHolder) {
    this.spec = spec;
    this.#holder = holder;
  }

  run(signal: AbortSignal): Promise<Outcome> {
    const { host, port } = this.spec;
    return new Promise((resolve) => {
      const socket: Socket = connect({ host, port });
      const onAbort = (): void => {
        socket.destroy();
        resolve(down('TIMEOUT', `tcp connect to ${host}:${port} aborted`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        if (!this.#holder.offer(host, port, socket)) closeAbortively(socket);
        resolve(ok(`connected to ${host}:${port}`));
      });
      socket.once('error', (err) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(down(connectCode(err), `tcp ${errorMessage(err)}`));
      });
    });
  }

  watch(listener: PassiveListener): () => void {
    return this.#holder.subscribe(this.spec.host, this.spec.port, listener);
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
