// The bench's own docker-registry: loopback only, storage in a temp dir, no blob-descriptor
// cache (so that emptying the storage between runs really empties it), started with every
// REGISTRY_* variable removed from its environment (each one is a config override).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, stopDaemon } from './proc.mjs';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function cleanEnv(env = process.env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('REGISTRY_')));
}

/** Starts docker-registry in `dir`; returns its host and controls. */
export async function startRegistry(dir) {
  const storage = join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(config, [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: ts-docker-bench-not-a-secret',
    '',
  ].join('\n'));
  const { child, log } = startDaemon('docker-registry', ['serve', config], { env: cleanEnv() });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (i === 199) {
      await stopDaemon(child);
      throw new Error(`docker-registry did not answer on ${host} within 10 s:\n${log()}`);
    }
    await sleep(50);
  }
  return {
    host,
    storage,
    log,
    /** Removes every blob, repository and upload session. */
    async empty() {
      for (const e of await readdir(storage)) await rm(join(storage, e), { recursive: true, force: true });
    },
    stop: () => stopDaemon(child),
  };
}
