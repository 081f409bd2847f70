/**
 * Renders a kustomization with the real kustomize: the binary test/setup/podman.sh builds with
 * `go install` (cached in /var/cache/vipcast/bin), one on PATH, or `kubectl kustomize`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Kustomize {
  /** How it is invoked, for messages. */
  describe: string;
  render(dir: string): string;
}

function works(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'pipe', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** The kustomize to use, or the reason there is none. */
export function findKustomize(): Kustomize | { reason: string } {
  const cacheDir = process.env.VIPCAST_CACHE_DIR ?? '/var/cache/vipcast';
  const candidates = [process.env.KUSTOMIZE, `${cacheDir}/bin/kustomize`, 'kustomize'].filter((c): c is string => !!c);
  for (const bin of candidates) {
    if ((bin.includes('/') && !existsSync(bin)) || !works(bin, ['version'])) continue;
    return { describe: bin, render: (dir) => execFileSync(bin, ['build', dir], { encoding: 'utf8', timeout: 60_000 }) };
  }
  if (works('kubectl', ['kustomize', '--help'])) {
    return { describe: 'kubectl kustomize', render: (dir) => execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 }) };
  }
  return { reason: `no kustomize: not in ${cacheDir}/bin (test/setup/podman.sh builds it with go install), not on PATH, no kubectl` };
}
