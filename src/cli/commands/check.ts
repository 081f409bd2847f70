/**
 * `vipcast check --config FILE [--json]`: validate a config and print the plan (or the
 * normalised config as JSON). Exit 0 when valid; 2 with every problem on stderr, one per line.
 */
import type { Command } from 'commander';
import { ConfigError, formatIssue } from '../../config/errors.js';
import { loadConfigWithWarnings } from '../../config/load.js';
import { formatPlan } from '../../config/plan.js';

export const EXIT_OK = 0;
/** Invalid configuration (or none given): the usage-error convention. */
export const EXIT_INVALID = 2;

export interface CheckIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CheckIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** The command's whole behaviour, testable without a process: returns the exit code. */
export async function runCheck(path: string | undefined, opts: { json?: boolean }, io: CheckIo = processIo): Promise<number> {
  if (path === undefined || path === '') {
    io.stderr('vipcast check: no config file: pass --config FILE or set VIPCAST_CONFIG\n');
    return EXIT_INVALID;
  }
  try {
    const { config, warnings } = await loadConfigWithWarnings(path);
    if (opts.json) {
      io.stdout(`${JSON.stringify(config, null, 2)}\n`);
      // JSON stays machine-readable on stdout; warnings go beside it.
      for (const w of warnings) io.stderr(`warning: ${formatIssue(w)}\n`);
    } else {
      io.stdout(`${formatPlan(config, warnings)}\n`);
    }
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) io.stderr(`${formatIssue(issue)}\n`);
    return EXIT_INVALID;
  }
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate a config file and print what vipcast would do (exit 2 and every problem if invalid)')
    .option('-c, --config <file>', 'config file (default: $VIPCAST_CONFIG)')
    .option('--json', 'print the normalised config as JSON instead of the plan')
    .action(async (opts: { config?: string; json?: boolean }) => {
      process.exitCode = await runCheck(opts.config ?? process.env.VIPCAST_CONFIG, { json: opts.json });
    });
}
