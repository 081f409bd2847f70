/**
 * A pino logger whose JSON lines are kept in memory, for the few tests about logging itself
 * (a warning logged once per neighbor, an error code). Each write is one JSON line.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';

export function captureLog(level = 'debug'): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}
