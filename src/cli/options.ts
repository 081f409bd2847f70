/** Options and exit codes shared by the CLI commands. */
import { readFile } from 'node:fs/promises';

/** Exit status for an invalid config or invalid usage (issue 2: `vipcast check` exits 2). */
export const EXIT_CONFIG = 2;
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9179';

export class UsageError extends Error {
  readonly code = 'VIPCAST_USAGE';
}

/** --config, else $VIPCAST_CONFIG. */
export function configPath(flag: string | undefined): string {
  const file = flag ?? process.env.VIPCAST_CONFIG;
  if (!file) throw new UsageError('no config file: pass --config FILE or set VIPCAST_CONFIG');
  return file;
}

/** The admin token for mutations: --token-file, $VIPCAST_TOKEN, or the config's admin.token_file. */
export async function readTokenFrom(tokenFile: string | undefined, configTokenFile: string | undefined): Promise<string | undefined> {
  if (tokenFile) return (await readFile(tokenFile, 'utf8')).trim();
  if (process.env.VIPCAST_TOKEN) return process.env.VIPCAST_TOKEN.trim();
  if (configTokenFile) return (await readFile(configTokenFile, 'utf8')).trim();
  return undefined;
}
