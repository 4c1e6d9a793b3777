/**
 * `ts-docker run [-d] [-p [IP:]HOST:5000] [-v HOST:CONTAINER]... [-e REGISTRY_...=V]... [--name N] [--rm] registry`:
 * ts-docker runs no containers; the one image it "runs" is `registry`, as its own built-in
 * registry server, configured as the registry image is (its config.yml, REGISTRY_* variables,
 * container paths resolved through the volumes). Any other image gets a clear error.
 */
import { posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { checkSettings, mergeSettings, readConfigFile, settingsFromEnv } from '../../server/config-file.js';
import type { LoadedSettings, RegistrySettings } from '../../server/config-file.js';
import { startDetached } from '../../server/containers.js';
import { parseAddr } from '../../server/index.js';
import { hostPath, parseVolume } from '../../server/volumes.js';
import type { Volume } from '../../server/volumes.js';
import { globalsOf, out } from '../context.js';
import { serveForeground, warnIgnored } from './registry-serve.js';

interface Opts {
  detach?: boolean;
  publish?: string[];
  volume?: string[];
  env?: string[];
  name?: string;
  rm?: boolean;
}

/** The port the registry image listens on inside its container (unless REGISTRY_HTTP_ADDR says otherwise). */
const REGISTRY_PORT = 5000;
/** Where the registry image keeps its storage and reads its configuration. */
const IMAGE_STORAGE = '/var/lib/registry';
const IMAGE_CONFIG = '/etc/docker/registry/config.yml';

/** True for `registry`, `registry:2`, `library/registry`, `docker.io/library/registry:latest`... */
export function isRegistryImage(image: string): boolean {
  return /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?registry(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.test(image);
}

/** `-p [IP:]HOST:CONTAINER[/tcp]` (or just `CONTAINER`, a free host port) -> where to listen. */
export function parsePublish(spec: string, containerPort = REGISTRY_PORT): { host: string; port: number } {
  // The IP part only counts when two more parts follow: `5000:5000` is HOST_PORT:CONTAINER_PORT (docker's grammar).
  const m = /^(?:(\[[^\]]+\]|[\d.]+|localhost):(?=[^:]*:))?(?:(\d*):)?(\d+)(?:\/tcp)?$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`invalid publish spec ${spec}: expected [IP:]HOST_PORT:${containerPort}`);
  if (Number(m[3]) !== containerPort) {
    throw new InvalidArgumentError(`the registry listens on port ${containerPort} in its container: use -p HOST_PORT:${containerPort} (got ${spec})`);
  }
  // docker publishes on 0.0.0.0 by default; ts-docker's registry listens on loopback unless an
  // address is given (-p 0.0.0.0:5000:5000): without auth, anyone who reaches it could push.
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '').replace(/^localhost$/, '127.0.0.1');
  return { host, port: m[2] ? Number(m[2]) : 0 };
}

/** `-e NAME=VALUE` and `-e NAME` (the value from our environment, left out when unset, as docker does). */
export function parseEnv(specs: readonly string[], hostEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq < 0 ? spec : spec.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidArgumentError(`invalid environment variable ${spec}: expected NAME=VALUE`);
    const value = eq < 0 ? hostEnv[name] : spec.slice(eq + 1);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** What the registry "container" runs with, its paths resolved to the host. */
interface ImageSettings {
  containerPort: number;
  /** Host folder of the storage; undefined = the container's own folder. */
  storage: string | undefined;
  /** `registry serve` flags for auth and TLS. */
  serveArgs: string[];
  /** The same as settings, for the foreground server. */
  settings: RegistrySettings;
  /** Upload purging and the session cap, as the `REGISTRY_*` variables `registry serve` reads (the detached child). */
  maintenanceEnv: Record<string, string>;
}

/**
 * The registry image's configuration: its config.yml when a volume provides one, then the
 * `-e REGISTRY_*` variables; every path in them is a container path, found through the volumes.
 */
export async function imageSettings(volumes: readonly Volume[], env: Record<string, string>): Promise<ImageSettings> {
  const configFile = hostPath(volumes, IMAGE_CONFIG);
  const file: LoadedSettings = configFile ? await readConfigFile(configFile) : { settings: {}, ignored: [] };
  const fromEnv = settingsFromEnv(env);
  const other = Object.keys(env).filter((k) => !k.startsWith('REGISTRY_'));
  warnIgnored([[configFile ?? '', file.ignored], ['-e', [...fromEnv.ignored, ...other]]]);
  const s = mergeSettings(file.settings, fromEnv.settings);
  checkSettings(s);
  // Relative paths are relative to the registry's working directory in the image, `/`.
  const inContainer = (p: string): string => posix.resolve('/', p);
  const named = (key: keyof RegistrySettings, envName: string, configKey: string): string =>
    fromEnv.settings[key] !== undefined ? `${envName}=${s[key]}` : `${configKey} ${s[key]} (${configFile})`;
  const onHost = (key: 'htpasswd' | 'tlsCert' | 'tlsKey', envName: string, configKey: string): string | undefined => {
    const p = s[key];
    if (p === undefined) return undefined;
    const h = hostPath(volumes, inContainer(p));
    if (!h) throw new InvalidArgumentError(`${named(key, envName, configKey)} is not in a volume: add -v HOST_DIR:${posix.dirname(inContainer(p))}`);
    return h;
  };
  const htpasswd = onHost('htpasswd', 'REGISTRY_AUTH_HTPASSWD_PATH', 'auth.htpasswd.path');
  const tlsCert = onHost('tlsCert', 'REGISTRY_HTTP_TLS_CERTIFICATE', 'http.tls.certificate');
  const tlsKey = onHost('tlsKey', 'REGISTRY_HTTP_TLS_KEY', 'http.tls.key');
  let containerPort = REGISTRY_PORT;
  if (s.addr !== undefined) {
    try {
      containerPort = parseAddr(s.addr).port;
    } catch (e) {
      throw new InvalidArgumentError(`${named('addr', 'REGISTRY_HTTP_ADDR', 'http.addr')}: ${(e as Error).message}`);
    }
  }
  const maintenance = {
    purgeEnabled: s.purgeEnabled, purgeAgeMs: s.purgeAgeMs, purgeIntervalMs: s.purgeIntervalMs, purgeDryRun: s.purgeDryRun, maxUploadsPerClient: s.maxUploadsPerClient,
  };
  const settings: RegistrySettings = { htpasswd, realm: s.realm, tlsCert, tlsKey, ...maintenance };
  const serveArgs = [
    ...(htpasswd ? ['--htpasswd', htpasswd] : []),
    ...(s.realm !== undefined ? ['--realm', s.realm] : []),
    ...(tlsCert ? ['--tls-cert', tlsCert] : []),
    ...(tlsKey ? ['--tls-key', tlsKey] : []),
  ];
  return { containerPort, storage: hostPath(volumes, inContainer(s.root ?? IMAGE_STORAGE)), serveArgs, settings, maintenanceEnv: maintenanceEnv(maintenance) };
}

/** Resolved maintenance settings as the variables `registry serve` reads (durations in ms, which Go's syntax takes). */
function maintenanceEnv(m: Pick<RegistrySettings, 'purgeEnabled' | 'purgeAgeMs' | 'purgeIntervalMs' | 'purgeDryRun' | 'maxUploadsPerClient'>): Record<string, string> {
  const purging = 'REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_';
  const env: Record<string, string> = {};
  if (m.purgeEnabled !== undefined) env[`${purging}ENABLED`] = String(m.purgeEnabled);
  if (m.purgeAgeMs !== undefined) env[`${purging}AGE`] = `${m.purgeAgeMs}ms`;
  if (m.purgeIntervalMs !== undefined) env[`${purging}INTERVAL`] = `${m.purgeIntervalMs}ms`;
  if (m.purgeDryRun !== undefined) env[`${purging}DRYRUN`] = String(m.purgeDryRun);
  if (m.maxUploadsPerClient !== undefined) env['REGISTRY_TSDOCKER_MAXUPLOADSPERCLIENT'] = String(m.maxUploadsPerClient);
  return env;
}

/** Runs `run`. */
export default async function run(cmd: Command, image: string, command: string[] = []): Promise<void> {
  const opts = cmd.opts<Opts>();
  if (!isRegistryImage(image)) {
    throw new InvalidArgumentError(
      `ts-docker runs no containers: it can only "run" the registry image, as its built-in registry (ts-docker run -d -p 5000:5000 registry); use docker or podman to run ${image}`,
    );
  }
  if (command.length > 0) throw new InvalidArgumentError(`ts-docker's registry takes no command (got ${command.join(' ')})`);
  if ((opts.publish ?? []).length > 1) throw new InvalidArgumentError('ts-docker\'s registry publishes one port: give -p once');
  const volumes = (opts.volume ?? []).map((v) => parseVolume(v));
  const conf = await imageSettings(volumes, parseEnv(opts.env ?? []));
  const listen = opts.publish?.[0] ? parsePublish(opts.publish[0], conf.containerPort) : { host: '127.0.0.1', port: 0 };
  const storeRoot = globalsOf(cmd).root;
  if (!opts.detach) {
    const addr = `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
    await serveForeground({ ...conf.settings, addr, root: conf.storage ?? resolve(storeRoot, 'containers', 'foreground-registry') });
    return;
  }
  const bin = fileURLToPath(new URL('../../../bin/ts-docker.js', import.meta.url));
  const c = await startDetached({
    storeRoot, bin, image, ...listen, publish: opts.publish?.[0], storage: conf.storage, name: opts.name, autoRemove: !!opts.rm, serveArgs: conf.serveArgs, env: conf.maintenanceEnv,
  });
  out(`${c.id}\n`);
}
