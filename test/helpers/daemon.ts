/**
 * Long-running helper processes (docker-registry, nginx) for the integration suites: spawn with
 * captured output, wait for readiness, and make sure every one of them is stopped after the
 * test file (each started process is tracked and killed by its own pid in `afterAll`).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { afterAll } from 'vitest';

/** A started background process. */
export interface Daemon {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once it has exited (immediately when it already has). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Daemon>();

/** Spawns `cmd args` in the background with output captured (and appended to `logFile` if given). */
export function startDaemon(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile?: string } = {}): Daemon {
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  const onData = (b: Buffer): void => {
    chunks.push(b);
    if (opts.logFile) appendFileSync(opts.logFile, b);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (e) => {
      chunks.push(Buffer.from(`\n[test harness] spawn ${cmd}: ${e.message}\n`));
      resolve({ code: -1, signal: null });
    });
  });
  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    child,
    output: () => Buffer.concat(chunks).toString('utf8'),
    exited,
    stop(graceMs = 5000): Promise<void> {
      stopping ??= (async () => {
        const alive = (): boolean => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
        if (alive()) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => {
            if (alive()) child.kill('SIGKILL');
          }, graceMs);
          await exited;
          clearTimeout(timer);
        }
        running.delete(daemon);
      })();
      return stopping;
    },
  };
  running.add(daemon);
  return daemon;
}

/** Stops every daemon still running (runs automatically after each test file). */
export async function stopAllDaemons(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

afterAll(stopAllDaemons);
// Last resort if the worker dies without running hooks: no orphan servers.
process.once('exit', () => {
  for (const d of running) {
    try {
      d.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot listen on port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Resolves true when something accepts TCP connections on 127.0.0.1:port right now (false otherwise). */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than `undefined`; throws
 * `what` with `context()` after `timeoutMs` or as soon as `dead()` says the process is gone.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number; dead?: () => boolean; context?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    let v: T | undefined;
    try {
      v = await probe();
    } catch {
      v = undefined;
    }
    if (v !== undefined) return v;
    if (opts.dead?.()) throw new Error(`${what}: the process exited\n${opts.context?.() ?? ''}`);
    if (Date.now() > deadline) throw new Error(`${what}: timed out\n${opts.context?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** True when the child has exited. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
