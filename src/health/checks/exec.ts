/**
 * exec check: spawn the command (no shell) in its own process group; exit 0 is up. At the
 * timeout (or engine stop) the whole group gets SIGKILL, so a script that forked helpers
 * leaves nothing behind; after a normal exit the group is killed too, for the same reason.
 * A missing binary is a down result ("exec ENOENT ..."), never a crash. The last 200 bytes of
 * stdout+stderr go into the reason.
 *
 * Limit: a descendant that calls setsid() leaves the group and cannot be reached this way.
 */
import { spawn } from 'node:child_process';
import type { PidWatcher } from '../passive/pid-watch.js';
import type { UnitWatcher } from '../passive/unit-watch.js';
import type { ExecCheckSpec } from '../types.js';
import { down, errorCode, errorMessage, ok, type Checker, type Outcome, type PassiveListener } from './types.js';

const OUTPUT_TAIL = 200;

export class ExecChecker implements Checker {
  readonly spec: ExecCheckSpec;
  readonly #pids: PidWatcher;
  readonly #units: UnitWatcher;

  constructor(spec: ExecCheckSpec, pids: PidWatcher, units: UnitWatcher) {
    this.spec = spec;
    this.#pids = pids;
    this.#units = units;
  }

  run(signal: AbortSignal, timeoutMs: number): Promise<Outcome> {
    const [file, ...args] = this.spec.command;
    if (file === undefined) return Promise.resolve(down('EXEC_ERROR', 'exec: empty command'));
    return new Promise((resolve) => {
      const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let tail = '';
      const collect = (chunk: Buffer): void => {
        tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      let killError = '';
      const killGroup = (): void => {
        if (child.pid !== undefined) killError = killProcessGroup(child.pid) ?? killError;
      };
      let timedOut = false;
      const onAbort = (): void => {
        timedOut = true;
        killGroup();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const finish = (outcome: Outcome): void => {
        signal.removeEventListener('abort', onAbort);
        killGroup();
        // A grandchild holding our pipes would keep them open; we have what we need.
        child.stdout.destroy();
        child.stderr.destroy();
        resolve(outcome);
      };
      child.once('error', (err) => {
        const code = errorCode(err);
        finish(down(code === 'ENOENT' ? 'EXEC_ENOENT' : 'EXEC_ERROR', `exec ${code ?? 'error'} ${file}: ${errorMessage(err)}`));
      });
      child.once('exit', (status, sig) => {
        const output = tail.trim().replace(/\s+/g, ' ');
        const suffix = (output ? `: ${output}` : '') + (killError ? ` (${killError})` : '');
        if (status === 0 && !timedOut) this.#rearm();
        if (timedOut) finish(down('TIMEOUT', `exec timeout after ${timeoutMs} ms (process group killed)${suffix}`));
        else if (status === 0) finish(ok(`exec exit 0${suffix}`));
        else if (status !== null) finish(down('EXEC_EXIT', `exec exit ${status}${suffix}`));
        else finish(down('EXEC_SIGNAL', `exec killed by ${sig ?? 'signal'}${suffix}`));
      });
    });
  }

  /** Either detector, or both: a pid file and a unit may be watched together. */
  watch(listener: PassiveListener): () => void {
    const { watchPidFile, watchSystemdUnit } = this.spec;
    const unsubscribes = [
      watchPidFile === undefined ? undefined : this.#pids.subscribe(watchPidFile, listener),
      watchSystemdUnit === undefined ? undefined : this.#units.subscribe(watchSystemdUnit, listener),
    ];
    return () => unsubscribes.forEach((u) => u?.());
  }

  /** After a pass: the service may have restarted under a new pid or in a new cgroup. */
  #rearm(): void {
    if (this.spec.watchPidFile !== undefined) this.#pids.rearm(this.spec.watchPidFile);
    if (this.spec.watchSystemdUnit !== undefined) this.#units.rearm(this.spec.watchSystemdUnit);
  }
}

/**
 * SIGKILL to the group whose leader is `pid` (spawned detached, so pgid = pid). Returns the
 * failure as text for the check's reason; ESRCH (the group is already gone) is success.
 */
export function killProcessGroup(pid: number): string | undefined {
  try {
    process.kill(-pid, 'SIGKILL');
    return undefined;
  } catch (err) {
    return errorCode(err) === 'ESRCH' ? undefined : `kill process group ${pid}: ${errorMessage(err)}`;
  }
}
