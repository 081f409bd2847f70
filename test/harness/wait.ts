/** Bounded polling for tests: every loop here stops by itself, in count and in time. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown in the error when the condition never held (a function is called only then). */
  what?: string | (() => string);
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  const maxRounds = Math.ceil(timeoutMs / intervalMs) + 1;
  let lastError: unknown;
  for (let round = 0; round < maxRounds && Date.now() <= deadline; round++) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const detail = lastError instanceof Error ? `: last error ${lastError.message}` : '';
  const what = typeof opts.what === 'function' ? opts.what() : (opts.what ?? 'condition');
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
