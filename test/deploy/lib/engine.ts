/**
 * The container engine for the deployment tests: podman's Docker-compatible socket, set up by
 * test/setup/podman.sh. When there is none, `engineUnavailable()` says why (the tests skip with
 * that reason).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { promisify } from 'node:util';

export const SOCKET = process.env.VIPCAST_PODMAN_SOCK ?? '/run/podman/podman.sock';
export const DOCKER_HOST = `unix://${SOCKET}`;
const REASON_FILE = process.env.VIPCAST_ENGINE_REASON_FILE ?? '/tmp/vipcast-engine-unavailable';

export const run = promisify(execFile);

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: SOCKET, path: '/_ping', timeout: 3_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** Why the container tests cannot run here, or undefined when they can. */
export async function engineUnavailable(tools: string[] = ['podman']): Promise<string | undefined> {
  const setupSaid = existsSync(REASON_FILE) ? readFileSync(REASON_FILE, 'utf8').trim() : '';
  for (const t of tools) if (!onPath(t)) return `${t} is not installed${setupSaid ? ` (${setupSaid})` : ''}`;
  if (!(await ping())) {
    return `no podman API socket at ${SOCKET}${setupSaid ? `: ${setupSaid}` : ' (run test/setup/podman.sh as root)'}`;
  }
  try {
    execFileSync('podman', ['image', 'exists', 'localhost/debian:bookworm'], { stdio: 'pipe' });
  } catch {
    return `base image localhost/debian:bookworm is missing${setupSaid ? `: ${setupSaid}` : ' (test/setup/podman.sh makes it)'}`;
  }
  return undefined;
}
