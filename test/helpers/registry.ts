/**
 * A real docker-registry 2.8 (Debian's `docker-registry`) on a random loopback port, with
 * filesystem storage in a throw-away directory; optionally htpasswd or token auth and TLS (with
 * client CAs for mutual TLS). See /work/shared/REGISTRY-NOTES.md for why the config looks the
 * way it does (REGISTRY_* variables removed, a secret, htpasswd written first).
 *
 * The backend switch: with `TS_DOCKER_TEST_REGISTRY=builtin` (set by the vitest project
 * `builtin-registry`), {@link startRegistry} starts ts-docker's own `registry serve` instead,
 * behind the same {@link Registry} interface, so the client suites run against both.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { makeSandbox, requireTool, shOk } from './cli.js';
import type { Daemon } from './daemon.js';
import { hasExited, startDaemon, tcpOpen, waitUntil } from './daemon.js';
import { startTsRegistry } from './ts-registry.js';

/** Which registry server a suite runs against. */
export type RegistryBackend = 'docker-registry' | 'builtin';

/** The env variable a vitest project sets to choose the backend (unset: docker-registry). */
export const REGISTRY_BACKEND_ENV = 'TS_DOCKER_TEST_REGISTRY';

/** The backend this test run asks for: `$TS_DOCKER_TEST_REGISTRY` (`docker-registry`, the default, or `builtin`). */
export function registryBackend(): RegistryBackend {
  const v = process.env[REGISTRY_BACKEND_ENV];
  if (v === undefined || v === '' || v === 'docker-registry') return 'docker-registry';
  if (v === 'builtin') return 'builtin';
  throw new Error(`${REGISTRY_BACKEND_ENV}=${v}: expected docker-registry or builtin`);
}

/** A running registry. */
export interface Registry {
  /** Which server this is. */
  backend: RegistryBackend;
  /** `http://127.0.0.1:PORT` (`https://` with TLS) */
  url: string;
  /** `127.0.0.1:PORT` (what image names start with; ts-docker talks plain HTTP to 127.0.0.0/8). */
  host: string;
  port: number;
  /** The filesystem storage root (docker-registry: `docker/registry/v2/...` lives under it). */
  storage: string;
  /** The file holding blob `digest` in this registry's storage (each backend has its own layout). */
  blobFile(digest: string): string;
  /** The registry's log so far (startup, one line per request, errors). */
  log(): string;
  stop(): Promise<void>;
}

/** Options of {@link startRegistry}. */
export interface RegistryOptions {
  /** The server to start (default: {@link registryBackend}). The built-in one takes only `tls` without `clientCas`. */
  backend?: RegistryBackend;
  /**
   * The CONTENT of an htpasswd file (bcrypt entries, see {@link htpasswdEntry}), or users as
   * `{ user: password }` (hashed here); enables Basic auth with realm `ts-docker-test`.
   */
  htpasswd?: string | Record<string, string>;
  /** Token auth: the issuer's realm URL, service, issuer name and signing certificate. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Serve TLS with this certificate; `clientCas` turns on mutual TLS. */
  tls?: { cert: string; key: string; clientCas?: string[] };
  /** Deep-merged over the generated config (e.g. `{ http: { relativeurls: true } }`). */
  extraConfig?: object;
}

/** A bcrypt htpasswd line for `user:password` (docker-registry accepts only bcrypt). */
export async function htpasswdEntry(user: string, password: string): Promise<string> {
  const bin = await requireTool('htpasswd');
  return (await shOk(bin, ['-nbB', user, password])).stdout.trim() + '\n';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` merged into `base` recursively (objects merge, everything else replaces). */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** One GET, resolving with the status (or rejecting on a network error). */
export function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** The htpasswd file content for `users` (one bcrypt line each). */
async function htpasswdFile(users: Record<string, string>): Promise<string> {
  let out = '';
  for (const [user, password] of Object.entries(users)) out += await htpasswdEntry(user, password);
  return out;
}

const started = new Set<Daemon>();

/** Stops every registry {@link startRegistry} started that is still running (for an explicit afterAll). */
export async function stopAllRegistries(): Promise<void> {
  await Promise.all([...started].map((d) => d.stop()));
  started.clear();
}

/** The registry's environment: ours without any REGISTRY_* override (REGISTRY-NOTES). */
function registryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

/**
 * Starts the registry of `opts.backend` (default {@link registryBackend}) on 127.0.0.1 with a
 * kernel-chosen port and registers it to be stopped after the test file. docker-registry:
 * `docker-registry serve CONFIG`, port read back from its "listening on" log line, ready once
 * `GET /v2/` answers (200, or 401 with auth; with TLS once the port accepts connections).
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const backend = opts.backend ?? registryBackend();
  return backend === 'builtin' ? startBuiltinRegistry(opts) : startDockerRegistry(opts);
}

/** `ts-docker registry serve` for {@link startRegistry}; options it has no equivalent for fail loudly. */
async function startBuiltinRegistry(opts: RegistryOptions): Promise<Registry> {
  const unsupported = [
    opts.token !== undefined && 'token auth',
    opts.tls?.clientCas !== undefined && 'mutual TLS',
    opts.extraConfig !== undefined && 'extraConfig (docker-registry config)',
  ].filter((x): x is string => typeof x === 'string');
  if (unsupported.length > 0) {
    throw new Error(`startRegistry: the built-in registry has no ${unsupported.join(', ')}: start this suite with backend 'docker-registry'`);
  }
  const extra = opts.tls ? ['--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key] : [];
  if (opts.htpasswd !== undefined) {
    const path = join(await makeSandbox(), 'htpasswd');
    await writeFile(path, typeof opts.htpasswd === 'string' ? opts.htpasswd : await htpasswdFile(opts.htpasswd));
    extra.push('--htpasswd', path, '--realm', 'ts-docker-test');
  }
  const reg = await startTsRegistry({ extra });
  started.add(reg.daemon);
  void reg.daemon.exited.then(() => started.delete(reg.daemon));
  return reg;
}

/** The file docker-registry 2.8 keeps blob `digest` in: `docker/registry/v2/blobs/sha256/<xx>/<hex>/data`. */
export function dockerRegistryBlobFile(storage: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** docker-registry for {@link startRegistry}. */
async function startDockerRegistry(opts: RegistryOptions): Promise<Registry> {
  const bin = await requireTool('docker-registry');
  const dir = await makeSandbox();
  const storage = join(dir, 'storage');
  await mkdir(storage);
  let config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: storage },
      delete: { enabled: true },
      // Resume tests keep upload sessions around; never purge them behind a test's back.
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: '127.0.0.1:0', secret: randomBytes(16).toString('hex') },
  };
  if (opts.htpasswd !== undefined && opts.token !== undefined) throw new Error('startRegistry: htpasswd and token auth exclude each other');
  if (opts.htpasswd !== undefined) {
    // Written before start: a missing file makes the registry invent a user (REGISTRY-NOTES).
    const path = join(dir, 'htpasswd');
    await writeFile(path, typeof opts.htpasswd === 'string' ? opts.htpasswd : await htpasswdFile(opts.htpasswd));
    config = deepMerge(config, { auth: { htpasswd: { realm: 'ts-docker-test', path } } });
  }
  if (opts.token) {
    const { realm, service, issuer, rootCertBundle } = opts.token;
    config = deepMerge(config, { auth: { token: { realm, service, issuer, rootcertbundle: rootCertBundle } } });
  }
  if (opts.tls) {
    const { cert, key, clientCas } = opts.tls;
    config = deepMerge(config, { http: { tls: { certificate: cert, key, ...(clientCas ? { clientcas: clientCas } : {}) } } });
  }
  if (opts.extraConfig) config = deepMerge(config, opts.extraConfig as Record<string, unknown>);
  const configPath = join(dir, 'config.yml');
  // JSON is YAML: no YAML writer needed.
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const d = startDaemon(bin, ['serve', configPath], { env: registryEnv(), cwd: dir, logFile: join(dir, 'registry.log') });
  started.add(d);
  void d.exited.then(() => started.delete(d));
  const context = (): string => `docker-registry serve ${configPath}\n--- log ---\n${d.output().slice(-4000)}`;
  try {
    const port = await waitUntil(
      'docker-registry did not report its port',
      () => {
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(d.output());
        return m ? Number(m[1]) : undefined;
      },
      { dead: () => hasExited(d.child), context },
    );
    const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    if (opts.tls) {
      // No plain GET through TLS (and none at all without a client certificate under mutual TLS).
      await waitUntil(`docker-registry at ${url} did not accept connections`, async () => ((await tcpOpen(port)) ? true : undefined), {
        dead: () => hasExited(d.child),
        context,
      });
    } else {
      await waitUntil(
        `docker-registry at ${url} did not answer GET /v2/`,
        async () => {
          const s = await httpStatus(`${url}/v2/`);
          return s === 200 || s === 401 ? s : undefined;
        },
        { dead: () => hasExited(d.child), context },
      );
    }
    return {
      backend: 'docker-registry',
      url,
      host: `127.0.0.1:${port}`,
      port,
      storage,
      blobFile: (digest) => dockerRegistryBlobFile(storage, digest),
      log: () => d.output(),
      stop: () => d.stop(),
    };
  } catch (e) {
    await d.stop();
    throw e;
  }
}
