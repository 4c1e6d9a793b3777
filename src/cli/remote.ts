/** What push and pull share on the command line: settings, transport, progress and Ctrl-C. */
import { setMaxListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { CredentialStore } from '../config/credentials.js';
import { certsDirs } from '../config/paths.js';
import { loadSettings, parseSize, timeoutSettings } from '../config/settings.js';
import { InterruptedError, InvalidArgumentError } from '../errors.js';
import { retryingEvent } from '../image/progress.js';
import { Transport } from '../transport/transport.js';
import { globalsOf } from './context.js';
import type { Direction, ProgressMode, Renderer } from './progress.js';
import { createRenderer } from './progress.js';

/** Options common to push and pull. */
export interface RemoteOptions {
  quiet?: boolean;
  progress?: string;
  insecureRegistry?: string[];
}

/** A running remote command's context. */
export interface Remote {
  transport: Transport;
  render: Renderer;
  settings: ReturnType<typeof loadSettings>;
  insecure: string[];
  signal: AbortSignal;
  stopping: () => boolean;
  /** Runs the operation, turning an interruption into exit code 130 and closing everything. */
  run<T>(op: () => Promise<T>): Promise<T>;
}

const MODES = ['plain', 'tty', 'json', 'auto'];
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. A few responses in, V8 re-compiles its
 * hot parser function with TurboFan: ~35 MiB of peak RSS (a third of a push's), and a compile job
 * that a short command then waits for at exit (~50 ms of a re-push). Responses here are few and
 * their bodies pass the parser in whole chunks, so the baseline (Liftoff) code is as fast for us
 * (bench/README.md). Only the CLI sets this process-wide flag; the library leaves V8 alone.
 */
function baselineWasmOnly(): void {
  setFlagsFromString('--liftoff-only');
}

/** Sets up a remote command. `abortOnFirstSignal`: pulls stop at once (partial files are kept). */
export async function remote(cmd: Command, opts: RemoteOptions, dir: Direction, abortOnFirstSignal: boolean): Promise<Remote> {
  if (opts.progress && !MODES.includes(opts.progress)) throw new InvalidArgumentError(`invalid --progress "${opts.progress}": use plain, tty or json`);
  baselineWasmOnly();
  const settings = loadSettings(globalsOf(cmd).config);
  // TS_DOCKER_HEADERS_TIMEOUT / TS_DOCKER_STALL_TIMEOUT, else headersTimeout / stallTimeout in config.json (seconds).
  const timeouts = timeoutSettings(settings);
  const mode: ProgressMode | undefined = opts.quiet ? 'quiet' : opts.progress === 'auto' ? undefined : (opts.progress as ProgressMode | undefined);
  const render = await createRenderer(mode, dir);
  const ac = new AbortController();
  // Every request, stream pipeline and retry wait of every concurrent transfer listens on this
  // one signal (and removes its listener when done): with 11 or more transfers at once Node's
  // default limit of 10 would print a MaxListenersExceededWarning that is no leak.
  setMaxListeners(0, ac.signal);
  let stopping = false;
  const onSignal = (): void => {
    if (stopping || abortOnFirstSignal) ac.abort();
    if (!stopping) {
      process.stderr.write(
        abortOnFirstSignal
          ? 'Stopping; what was downloaded is kept and the next pull continues from it.\n'
          : 'Stopping after the current chunk; press Ctrl-C again to stop at once.\n',
      );
    }
    stopping = true;
  };
  const configDir = globalsOf(cmd).config;
  const transport = new Transport({
    // Stored logins, docker's config.json and credential helpers; certs.d for TLS (config/, transport/tls.ts).
    credentials: new CredentialStore({ configDir }).provider(),
    certsDirs: certsDirs(configDir),
    onRetry: (e) => render.event(retryingEvent(e)),
    ...timeouts,
  });
  return {
    transport,
    render,
    settings,
    insecure: [...(settings.insecureRegistries ?? []), ...(opts.insecureRegistry ?? [])],
    signal: ac.signal,
    stopping: () => stopping,
    async run<T>(op: () => Promise<T>): Promise<T> {
      // conf's atomic file writer (atomically -> when-exit) hooks SIGINT/SIGTERM and re-raises the
      // signal after its cleanup, which would read as a second Ctrl-C and abort the chunk in flight:
      // while a transfer runs, ours are the only handlers.
      const foreign = SIGNALS.flatMap((sig) => process.listeners(sig).map((l) => [sig, l] as const));
      for (const [sig, l] of foreign) process.off(sig, l);
      for (const sig of SIGNALS) process.on(sig, onSignal);
      try {
        return await op();
      } catch (err) {
        if (stopping || ac.signal.aborted) throw err instanceof InterruptedError ? err : new InterruptedError();
        // One blob failed (e.g. push denied): stop its siblings now rather than let them retry
        // against a closed transport and keep the process alive after the error was printed.
        ac.abort();
        throw err;
      } finally {
        for (const sig of SIGNALS) process.off(sig, onSignal);
        for (const [sig, l] of foreign) process.on(sig, l);
        render.close();
        await transport.close().catch(() => undefined);
      }
    },
  };
}

/** A positive integer option (`--max-concurrent-uploads`). */
export function positiveInt(v: string | number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`invalid ${what} "${v}": must be a positive integer`);
  return n;
}

export { parseSize };
