/**
 * `ts-docker registry serve` started from the BUILT CLI on a kernel-chosen loopback port (read
 * back from its "listening on" line), with storage in a throw-away folder; stopped after the file.
 */
import { join } from 'node:path';
import { BIN, makeSandbox, requireBuilt } from '../helpers/cli.js';
import type { Daemon } from '../helpers/daemon.js';
import { hasExited, startDaemon, waitUntil } from '../helpers/daemon.js';

/** A running built-in registry. */
export interface TsRegistry {
  url: string;
  host: string;
  port: number;
  /** Its storage root. */
  root: string;
  log(): string;
  daemon: Daemon;
  stop(): Promise<void>;
}

/** Starts `ts-docker registry serve --addr 127.0.0.1:0 --root DIR [extra...]`. */
export async function startTsRegistry(opts: { root?: string; extra?: string[] } = {}): Promise<TsRegistry> {
  requireBuilt();
  const root = opts.root ?? join(await makeSandbox(), 'registry');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['TS_DOCKER_ROOT'];
  const d = startDaemon(process.execPath, [BIN, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', root, ...(opts.extra ?? [])], { env });
  try {
    const port = await waitUntil(
      'ts-docker registry serve did not report its port',
      () => {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(d.output());
        return m ? Number(m[1]) : undefined;
      },
      { dead: () => hasExited(d.child), context: () => d.output() },
    );
    return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, port, root, log: () => d.output(), daemon: d, stop: () => d.stop() };
  } catch (e) {
    await d.stop();
    throw e;
  }
}
