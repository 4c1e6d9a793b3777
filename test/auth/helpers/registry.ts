/**
 * docker-registry 2.8 started by the tests: filesystem storage in a temp dir, a random loopback
 * port, optional htpasswd or token auth and TLS (with client CAs for mutual TLS). Every
 * `REGISTRY_*` variable is removed from its environment (it reads them as config overrides).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool, shOk } from '../../helpers/cli.js';
import { freePort, waitForPort } from './net.js';

/** How to start a registry. */
export interface RegistryOptions {
  /** Users for htpasswd Basic auth (bcrypt entries made with `htpasswd -Bbn`). */
  htpasswd?: Record<string, string>;
  /** Token auth: the issuer's realm URL, service, issuer name and signing certificate. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve TLS with this certificate; `clientCas` turns on mutual TLS. */
  tls?: { cert: string; key: string; clientCas?: string[] };
}

/** A running registry. */
export interface Registry {
  port: number;
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Everything it logged so far. */
  log: () => string;
  stop: () => Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills one child: SIGTERM, then SIGKILL if it lingers. */
export async function stopChild(child: ChildProcess): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Kills every registry still running (for afterAll). */
export async function stopAllRegistries(): Promise<void> {
  await Promise.all([...running].map(stopChild));
}

/** Starts docker-registry in `dir`. */
export async function startRegistry(dir: string, opts: RegistryOptions = {}): Promise<Registry> {
  const bin = await requireTool('docker-registry');
  await mkdir(join(dir, 'data'), { recursive: true });
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: false } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { secret: 'ts-docker-test-secret' },
  };
  if (opts.htpasswd) {
    const lines: string[] = [];
    const htpasswd = await requireTool('htpasswd');
    for (const [user, pass] of Object.entries(opts.htpasswd)) lines.push((await shOk(htpasswd, ['-Bbn', user, pass])).stdout.trim());
    // Always write the file first: a missing one makes the registry invent a user and log its password.
    await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    config['auth'] = { htpasswd: { realm: 'ts-docker-test', path: join(dir, 'htpasswd') } };
  }
  if (opts.token) {
    config['auth'] = { token: { realm: opts.token.realm, service: opts.token.service, issuer: opts.token.issuer, rootcertbundle: opts.token.rootCertBundle } };
  }
  if (opts.tls) {
    (config['http'] as Record<string, unknown>)['tls'] = {
      certificate: opts.tls.cert, key: opts.tls.key, ...(opts.tls.clientCas ? { clientcas: opts.tls.clientCas } : {}),
    };
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    (config['http'] as Record<string, unknown>)['addr'] = `127.0.0.1:${port}`;
    const file = join(dir, 'config.yml');
    // JSON is YAML: the registry reads it as its config file.
    await writeFile(file, JSON.stringify(config, null, 2));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
    const child = spawn(bin, ['serve', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let log = '';
    child.stdout!.on('data', (b: Buffer) => (log += b.toString('utf8')));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString('utf8')));
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      await waitForPort('127.0.0.1', port, () => (exited ? `docker-registry exited:\n${log}` : undefined));
      return { port, host: `127.0.0.1:${port}`, log: () => log, stop: () => stopChild(child) };
    } catch (err) {
      await stopChild(child);
      if (attempt >= 2 || !/address already in use/.test(log)) throw err;
    }
  }
}
