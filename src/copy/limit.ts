/** A tiny concurrency limiter: at most `n` tasks run at once, the rest wait their turn. */

/** Returns a function that runs tasks with at most `n` in flight. */
export function limit(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    active--;
    queue.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= Math.max(1, n)) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      next();
    }
  };
}
