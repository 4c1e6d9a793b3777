/**
 * `ts-docker registry serve [CONFIG]`: the built-in registry in the foreground, one log line per
 * request. Settings come from docker-registry's `config.yml` (CONFIG), then the `REGISTRY_*`
 * environment overrides, then flags, each overriding the one before.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { DEFAULT_REALM, checkSettings, mergeSettings, readConfigFile, settingsFromEnv } from '../../server/config-file.js';
import type { RegistrySettings } from '../../server/config-file.js';
import { recordExit } from '../../server/containers.js';
import { DEFAULT_UPLOAD_PURGING, parseAddr, startRegistryServer } from '../../server/index.js';
import { out } from '../context.js';

/** The registry's default storage folder (beside the image store, never inside it). */
export function defaultRegistryRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'ts-docker-registry');
}

/** The address the registry listens on when nothing says otherwise (loopback: see the README). */
export const DEFAULT_ADDR = '127.0.0.1:5000';

/** What the foreground server needs. */
export interface ServeOptions extends RegistrySettings {
  addr: string;
  root: string;
  chunkMinLength?: string | undefined;
}

/** Writes a warning line on stderr. */
export function warn(text: string): void {
  process.stderr.write(`warning: ${text}\n`);
}

/** The one warning line about ignored settings (`sources` maps where they came from to their names). */
export function warnIgnored(sources: Array<[string, string[]]>): void {
  const parts = sources.filter(([, keys]) => keys.length > 0).map(([from, keys]) => `${keys.join(', ')} (${from})`);
  if (parts.length > 0) warn(`ignoring settings the built-in registry does not support: ${parts.join('; ')}`);
}

const isLoopback = (host: string): boolean => /^127\.|^::1$|^localhost$/i.test(host);

/** Serves until SIGINT/SIGTERM (shared by `registry serve` and `run registry` without -d). */
export async function serveForeground(opts: ServeOptions): Promise<void> {
  let addr: { host: string; port: number };
  try {
    addr = parseAddr(opts.addr);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  const chunkMinLength = opts.chunkMinLength === undefined ? undefined : Number(opts.chunkMinLength);
  if (chunkMinLength !== undefined && !(Number.isInteger(chunkMinLength) && chunkMinLength > 0)) {
    throw new InvalidArgumentError(`invalid --chunk-min-length ${opts.chunkMinLength}`);
  }
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new InvalidArgumentError('TLS needs both a certificate and its key (--tls-cert with --tls-key, http.tls.certificate with http.tls.key, REGISTRY_HTTP_TLS_CERTIFICATE with REGISTRY_HTTP_TLS_KEY)');
  }
  if (opts.realm !== undefined && opts.htpasswd === undefined) {
    throw new InvalidArgumentError('a realm needs an htpasswd file (--htpasswd FILE, auth.htpasswd.path or REGISTRY_AUTH_HTPASSWD_PATH)');
  }
  const tls = opts.tlsCert && opts.tlsKey ? { cert: await readPem(opts.tlsCert, 'certificate'), key: await readPem(opts.tlsKey, 'key') } : undefined;
  const auth = opts.htpasswd === undefined ? undefined : { htpasswd: resolve(opts.htpasswd), realm: opts.realm ?? DEFAULT_REALM };
  const root = resolve(opts.root);
  const uploadPurging = {
    enabled: opts.purgeEnabled ?? DEFAULT_UPLOAD_PURGING.enabled,
    ageMs: opts.purgeAgeMs ?? DEFAULT_UPLOAD_PURGING.ageMs,
    intervalMs: opts.purgeIntervalMs ?? DEFAULT_UPLOAD_PURGING.intervalMs,
    dryRun: opts.purgeDryRun ?? DEFAULT_UPLOAD_PURGING.dryRun,
  };
  const srv = await startRegistryServer({ ...addr, root, chunkMinLength, tls, auth, uploadPurging, maxUploadsPerClient: opts.maxUploadsPerClient, log: (line) => out(`${line}\n`) });
  const shown = srv.host.includes(':') ? `[${srv.host}]` : srv.host;
  out(`ts-docker registry listening on ${shown}:${srv.port} (${tls ? 'https' : 'http'}, ${auth ? `htpasswd auth, realm "${auth.realm}"` : 'no auth'}, storage ${root})\n`);
  if (!isLoopback(srv.host)) {
    if (!auth) warn(`${shown}:${srv.port} is reachable from other machines without auth: anyone who can reach it can push, pull and delete images (add --htpasswd)`);
    else if (!tls) warn(`${shown}:${srv.port} takes Basic auth over plain HTTP: passwords cross the network readable (add --tls-cert/--tls-key)`);
  }
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void srv.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Reads a PEM file, naming it when it cannot be read. */
async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InvalidArgumentError(`TLS ${what} ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
}

interface Flags {
  containerDir?: string;
  addr?: string;
  root?: string;
  chunkMinLength?: string;
  tlsCert?: string;
  tlsKey?: string;
  htpasswd?: string;
  realm?: string;
}

/** Runs `registry serve [CONFIG]`. */
export default async function run(cmd: Command, config?: string): Promise<void> {
  const flags = cmd.opts<Flags>();
  // Started by `run -d`: how this process ends is what `ps -a` shows (`Exited (0) 3 seconds ago`).
  const { containerDir } = flags;
  if (containerDir !== undefined) process.on('exit', (code) => recordExit(containerDir, code));
  // `--root` after `registry serve` is parsed by the program's global `--root` too: here it names the registry's storage.
  const root = flags.root ?? cmd.optsWithGlobals<{ root?: string }>().root;
  const file = config === undefined ? { settings: {}, ignored: [] } : await readConfigFile(config);
  const env = settingsFromEnv(process.env);
  warnIgnored([[config ?? '', file.ignored], ['environment', env.ignored]]);
  const { addr, tlsCert, tlsKey, htpasswd, realm } = flags;
  const s = mergeSettings(file.settings, env.settings, { addr, root, tlsCert, tlsKey, htpasswd, realm });
  checkSettings(s);
  await serveForeground({ ...s, addr: s.addr ?? DEFAULT_ADDR, root: s.root ?? defaultRegistryRoot(), chunkMinLength: flags.chunkMinLength });
}
