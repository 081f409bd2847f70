#!/usr/bin/env node
/**
 * vipcast command line: `run` (the main job), `check`, `status`, `drain`, `undrain`, `listen`.
 * Usage errors and invalid configs exit 2, runtime failures 1.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, formatIssue } from '../config/errors.js';
import { registerAdminClient } from './commands/admin-client.js';
import { registerCheck } from './commands/check.js';
import { registerListen } from './commands/listen.js';
import { registerRun } from './commands/run.js';
import { EXIT_CONFIG, UsageError } from './options.js';

function version(): string {
  // dist/src/cli/main.js -> ../../../package.json; src/cli/main.ts -> ../../package.json
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // try the next layout
    }
  }
  return 'unknown';
}

export function buildProgram(): Command {
  const program = new Command('vipcast')
    .description('Health-checks local services and advertises their VIPs over BGP (built-in speaker or a GoBGP sidecar)')
    .version(version(), '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerCheck(program);
  registerAdminClient(program);
  registerListen(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_CONFIG;
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(formatIssue(issue) + '\n');
      return EXIT_CONFIG;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`vipcast: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`vipcast: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`vipcast: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
