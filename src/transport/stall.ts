/**
 * The low-speed limit on response bodies (curl's --speed-limit/--speed-time). undici's
 * `bodyTimeout` measures the gap between two chunks only, so a server dripping one byte a second
 * never trips it; this watchdog ends a body that brought fewer than {@link STALL_MIN_BYTES} in a
 * whole window. Cheap on the hot path: one interval timer per body and a counter bumped where
 * undici pushes each chunk, no timer per chunk.
 */
import type { Readable } from 'node:stream';
import { NetworkError } from './errors.js';

/** Fewer bytes than this in a whole window is a stall (a 1 byte/s drip brings 30 in 30 s). */
export const STALL_MIN_BYTES = 1024;

/** `30 s`, `2 s`, `0.5 s`. */
export function secondsLabel(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(1))} s`;
}

/**
 * Watches `body` (a response from `url`): when, for `windowMs`, fewer than {@link STALL_MIN_BYTES}
 * arrive while nothing waits unread in its buffer, it is destroyed with a NetworkError
 * `stalled: no data from HOST for 30 s`. Bytes waiting unread mean the reader is the slow one
 * (a busy disk), not the network: the window starts again. `windowMs` 0 turns it off.
 */
export function watchStall(body: Readable, windowMs: number, url: string): void {
  if (!(windowMs > 0) || body.destroyed || body.readableEnded) return;
  let received = 0;
  let mark = 0;
  let since = Date.now();
  const push = body.push;
  // undici hands every chunk to the body's push() (api-request onData), whether it is read as a
  // stream or consumed with text()/arrayBuffer(); counting there costs one call per chunk.
  body.push = function counted(this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) stop();
    else received += (chunk as { length?: number }).length ?? 0;
    return push.call(this, chunk, encoding);
  };
  const tick = (): void => {
    const now = Date.now();
    if (received - mark >= STALL_MIN_BYTES || body.readableLength > 0) {
      mark = received;
      since = now;
      return;
    }
    if (now - since < windowMs) return;
    stop();
    const host = new URL(url).host;
    const got = received - mark;
    const reason = got === 0
      ? `stalled: no data from ${host} for ${secondsLabel(windowMs)}`
      : `stalled: only ${got} bytes from ${host} in ${secondsLabel(windowMs)}`;
    // Nobody may be listening yet (a body held but not read): the error must not crash the process.
    if (body.listenerCount('error') === 0) body.on('error', () => undefined);
    body.destroy(new NetworkError(reason, url, { timeout: true }));
  };
  const timer = setInterval(tick, Math.max(25, Math.min(windowMs / 4, 5000)));
  timer.unref();
  function stop(): void {
    clearInterval(timer);
  }
  body.once('close', stop);
}
