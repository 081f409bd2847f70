/**
 * Nix without nixpkgs for the nix/ tests: Debian's nix-bin evaluates the builtins-only files and
 * the module and package with stand-ins (test/deploy/nix/*.nix). When nix-instantiate is missing,
 * `nixUnavailable` says why (the tests skip with that reason).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const repo = join(import.meta.dirname, '..', '..', '..');
export const nixDir = join(repo, 'nix');
/** The stand-in evaluators (package-eval.nix, module-eval.nix). */
export const standIns = join(import.meta.dirname, '..', 'nix');

function unavailable(): string | undefined {
  try {
    execFileSync('nix-instantiate', ['--version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    return 'nix-instantiate is not installed (Debian nix-bin; test/setup/install-deps.sh installs it)';
  }
}
export const nixUnavailable = unavailable();

/** Evaluates a Nix expression strictly; returns its value as JSON. */
export function nixEval(expr: string): unknown {
  const out = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
  return JSON.parse(out) as unknown;
}
