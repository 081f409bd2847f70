/** pino logger: JSON lines by default (for collectors), `log.format: pretty` for people. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LogOptions {
  level: LevelWithSilent;
  format: 'json' | 'pretty';
}

export function createLogger(opts: LogOptions = { level: 'info', format: 'json' }): Logger {
  if (opts.format === 'pretty') {
    return pino({
      level: opts.level,
      transport: { target: 'pino-pretty', options: { colorize: process.stderr.isTTY, destination: 2, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  // JSON to stderr keeps stdout free for command output (`vipcast listen` prints routes there).
  return pino({ level: opts.level, base: { name: 'vipcast' } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for unit tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
