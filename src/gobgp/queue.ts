/**
 * Runs async tasks one at a time, in call order. Every change to the daemon (connect, neighbors,
 * paths, repair) goes through one queue, so a repair never interleaves with an apply.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task).finally(() => this.pending--);
    // The chain must continue after a failed task; the failure itself goes to the caller via `result`.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolves when every task queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
