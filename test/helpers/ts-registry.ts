/**
 * `ts-docker registry serve` (the built-in registry) started from the BUILT CLI on a
 * kernel-chosen loopback port (read back from its "listening on" line), with storage in a
 * throw-away folder; stopped after the test file like every daemon.
 */
import { join } from 'node:path';
import { BIN, SCRUBBED_ENV, makeSandbox, requireBuilt } from './cli.js';
import type { Daemon } from './daemon.js';
import { hasExited, startDaemon, waitUntil } from './daemon.js';
import type { Registry } from './registry.js';

/** A running built-in registry (the same {@link Registry} shape as docker-registry, plus its process). */
export interface TsRegistry extends Registry {
  /** Its storage root (the same as `storage`). */
  root: string;
  daemon: Daemon;
}

/** Where the built-in registry keeps blob `digest` under `root` (src/server/storage.ts: `blobs/sha256/<hex>`). */
export function tsRegistryBlobFile(root: string, digest: string): string {
  return join(root, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

/** Starts `ts-docker registry serve --addr 127.0.0.1:0 --root DIR [extra...]` (HTTPS when `extra` has --tls-cert). */
export async function startTsRegistry(opts: { root?: string; extra?: string[] } = {}): Promise<TsRegistry> {
  requireBuilt();
  const root = opts.root ?? join(await makeSandbox(), 'registry');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of SCRUBBED_ENV) delete env[k];
  const extra = opts.extra ?? [];
  const d = startDaemon(process.execPath, [BIN, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', root, ...extra], { env });
  try {
    const port = await waitUntil(
      'ts-docker registry serve did not report its port',
      () => {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(d.output());
        return m ? Number(m[1]) : undefined;
      },
      { dead: () => hasExited(d.child), context: () => d.output() },
    );
    const scheme = extra.includes('--tls-cert') ? 'https' : 'http';
    return {
      backend: 'builtin',
      url: `${scheme}://127.0.0.1:${port}`,
      host: `127.0.0.1:${port}`,
      port,
      root,
      storage: root,
      blobFile: (digest) => tsRegistryBlobFile(root, digest),
      log: () => d.output(),
      daemon: d,
      stop: () => d.stop(),
    };
  } catch (e) {
    await d.stop();
    throw e;
  }
}
