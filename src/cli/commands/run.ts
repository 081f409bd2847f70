/**
 * `vipcast run`: the main job. Loads the config, starts the controller, and handles signals:
 * SIGTERM/SIGINT run the ordered shutdown once (a second one exits at once), SIGHUP and a
 * change of the config file reload it (Kubernetes swaps a symlink when a ConfigMap changes,
 * so the directory is watched, not the file).
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { Vipcast } from '../../app/vipcast.js';
import { createBackend } from '../../backend/create.js';
import { ConfigError, formatIssue } from '../../config/errors.js';
import { loadConfig, loadConfigWithWarnings } from '../../config/load.js';
import type { ConfigIssue } from '../../config/types.js';
import type { VipcastConfig } from '../../config/types.js';
import { HealthEngine } from '../../health/engine.js';
import { createLogger } from '../../log/logger.js';
import { configPath, EXIT_CONFIG } from '../options.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('health-check the configured services and advertise their VIPs over BGP')
    .option('-c, --config <file>', 'config file (default: $VIPCAST_CONFIG)')
    .action(async (opts: { config?: string }) => {
      const code = await runMain(configPath(opts.config));
      // Everything was withdrawn and closed; do not let a forgotten handle keep the process up.
      process.exit(code);
    });
}

export async function runMain(file: string): Promise<number> {
  let config: VipcastConfig;
  let warnings: ConfigIssue[];
  try {
    ({ config, warnings } = await loadConfigWithWarnings(file));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) process.stderr.write(formatIssue(issue) + '\n');
    return EXIT_CONFIG;
  }
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  for (const w of warnings) logger.warn({ warning: formatIssue(w) }, 'configuration warning');
  const backend = await createBackend(config, logger.child({ component: 'bgp' }));
  const app = new Vipcast(config, {
    logger,
    createBackend: () => backend,
    createHealth: (vips, o) => new HealthEngine(vips, { logger: o.logger, onCheckResult: o.onCheckResult }),
  });
  // SIGHUP's default action is to terminate: the handler goes in before start (which can take
  // seconds against a slow gobgpd), and a reload asked for meanwhile runs once it is up.
  let started = false;
  let hupDuringStart = false;
  process.on('SIGHUP', () => {
    if (started) void reload(app, file, logger);
    else hupDuringStart = true;
  });
  await app.start();
  started = true;
  if (hupDuringStart) void reload(app, file, logger);
  const stopWatching = watchConfig(file, logger, () => void reload(app, file, logger));
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal: sig }, 'second signal: exiting at once without withdrawing');
        logger.flush();
        process.exit(130);
      }
      logger.info({ signal: sig }, 'signal received: ordered shutdown');
      stopWatching();
      app.shutdown().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }).finally(() => logger.flush());
}

let reloading = Promise.resolve();

/** Reloads are serialised; an invalid file is logged with every problem and the running config stays. */
function reload(app: Vipcast, file: string, logger: Logger): Promise<void> {
  reloading = reloading.then(async () => {
    try {
      const next = await loadConfig(file);
      await app.reload(next);
    } catch (err) {
      app.metrics.configReloads.inc({ outcome: 'error' });
      if (err instanceof ConfigError) {
        logger.error({ problems: err.issues.map(formatIssue) }, 'new configuration is invalid; keeping the running one');
      } else {
        logger.error({ err }, 'reload failed; keeping the running configuration');
      }
    }
  });
  return reloading;
}

/**
 * Watches the config file's directory and reloads when the file's content changes. Comparing a
 * hash filters the burst of events editors and the kubelet's `..data` symlink swap produce.
 */
function watchConfig(file: string, logger: Logger, onChange: () => void): () => void {
  let lastHash: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const hashNow = async (): Promise<string | undefined> =>
    readFile(file).then(
      (b) => createHash('sha256').update(b).digest('hex'),
      () => undefined,
    );
  void hashNow().then((h) => (lastHash = h));
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name && name !== basename(file) && !name.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        void hashNow().then((h) => {
          if (h === undefined || h === lastHash) return;
          lastHash = h;
          logger.info({ file }, 'config file changed: reloading');
          onChange();
        });
      }, 200);
    });
    watcher.on('error', (err) => logger.warn({ err }, 'config watch failed; SIGHUP still reloads'));
  } catch (err) {
    logger.warn({ err }, 'cannot watch the config directory; SIGHUP still reloads');
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
