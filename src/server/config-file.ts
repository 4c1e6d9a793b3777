/**
 * The built-in registry's settings from docker-registry's own configuration: its `config.yml`
 * (YAML, hence the `yaml` package) and the `REGISTRY_*` environment overrides the `registry`
 * image takes. Only the keys below are read; settings that would change who may access the
 * registry or where its data lives, and that we cannot honour, are refused; the rest is ignored
 * and reported, for the caller to warn about.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { InvalidArgumentError } from '../errors.js';

/** What the registry can be configured with (paths as written: relative ones are relative to the working directory). */
export interface RegistrySettings {
  /** `auth.htpasswd` present, or `REGISTRY_AUTH=htpasswd`: auth is asked for (then a file must be named). */
  auth?: 'htpasswd' | undefined;
  /** `http.addr`, `REGISTRY_HTTP_ADDR`. */
  addr?: string | undefined;
  /** `http.tls.certificate`, `REGISTRY_HTTP_TLS_CERTIFICATE`. */
  tlsCert?: string | undefined;
  /** `http.tls.key`, `REGISTRY_HTTP_TLS_KEY`. */
  tlsKey?: string | undefined;
  /** `auth.htpasswd.path`, `REGISTRY_AUTH_HTPASSWD_PATH`. */
  htpasswd?: string | undefined;
  /** `auth.htpasswd.realm`, `REGISTRY_AUTH_HTPASSWD_REALM`. */
  realm?: string | undefined;
  /** `storage.filesystem.rootdirectory`, `REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY`. */
  root?: string | undefined;
  /** `storage.maintenance.uploadpurging.enabled`, `REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED` (default true). */
  purgeEnabled?: boolean | undefined;
  /** `storage.maintenance.uploadpurging.age` (a Go duration, ms here; default 168h). */
  purgeAgeMs?: number | undefined;
  /** `storage.maintenance.uploadpurging.interval` (default 24h). */
  purgeIntervalMs?: number | undefined;
  /** `storage.maintenance.uploadpurging.dryrun` (default false). */
  purgeDryRun?: boolean | undefined;
  /**
   * Most upload sessions one client may hold open (ts-docker's own: `tsdocker.maxuploadsperclient`,
   * `REGISTRY_TSDOCKER_MAXUPLOADSPERCLIENT`; docker-registry ignores the unknown key). Default 64.
   */
  maxUploadsPerClient?: number | undefined;
}

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3600_000 };

/** A Go `time.ParseDuration` string (`168h`, `1h30m`, `500ms`) in milliseconds; undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let ms = 0;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(t)) !== null) {
    ms += Number(m[1]) * GO_UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  return at === t.length && at > 0 ? Math.round(ms) : undefined;
}

/** The value of one upload-purging or session-cap setting, checked; `where` names it in errors. */
function maintenanceValue(key: 'enabled' | 'age' | 'interval' | 'dryrun' | 'maxuploadsperclient', v: unknown, where: string): Partial<RegistrySettings> {
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`${where} must be ${what}`);
  };
  const bool = (): boolean => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : bad('true or false'));
  const duration = (): number => {
    const ms = typeof v === 'string' ? parseGoDuration(v) : undefined;
    return ms !== undefined && ms > 0 ? ms : bad('a duration such as 168h, 30m or 10s');
  };
  switch (key) {
    case 'enabled':
      return { purgeEnabled: bool() };
    case 'dryrun':
      return { purgeDryRun: bool() };
    case 'age':
      return { purgeAgeMs: duration() };
    case 'interval':
      return { purgeIntervalMs: duration() };
    case 'maxuploadsperclient': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      return Number.isInteger(n) && n > 0 ? { maxUploadsPerClient: n } : bad('a whole number above 0');
    }
  }
}

/** Settings read from one source, and the keys (or variables) of it that were ignored. */
export interface LoadedSettings {
  settings: RegistrySettings;
  ignored: string[];
}

/** The realm of the Basic challenge when none is configured. */
export const DEFAULT_REALM = 'ts-docker registry';

/** `storage` keys that are not a storage driver (docker-registry's configuration reference). */
const STORAGE_OPTIONS = ['delete', 'maintenance', 'cache', 'redirect', 'tag'];

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Later sources win, key by key (file < environment < flags); undefined never overrides. */
export function mergeSettings(...layers: RegistrySettings[]): RegistrySettings {
  const out: RegistrySettings = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) Object.assign(out, { [k]: v });
  }
  return out;
}

/** Refuses settings that ask for auth without naming the file (the server would otherwise run open). */
export function checkSettings(s: RegistrySettings): void {
  if (s.auth === 'htpasswd' && s.htpasswd === undefined) {
    throw new InvalidArgumentError('htpasswd auth is asked for but no file is named: set auth.htpasswd.path, REGISTRY_AUTH_HTPASSWD_PATH or --htpasswd');
  }
}

/** The settings of a parsed `config.yml` document; `source` names it in errors. */
export function settingsFromConfig(doc: unknown, source: string): LoadedSettings {
  if (doc === null || doc === undefined) return { settings: {}, ignored: [] };
  if (!isMap(doc)) throw new InvalidArgumentError(`${source}: expected a YAML mapping (docker-registry's config.yml format)`);
  const settings: RegistrySettings = {};
  const ignored: string[] = [];
  const str = (v: unknown, key: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InvalidArgumentError(`${source}: ${key} must be a string`);
    return v;
  };
  const refuse = (key: string, why: string): never => {
    throw new InvalidArgumentError(`${source}: ${key} is not supported: ${why}`);
  };
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'version') continue;
    if (key === 'http' && isMap(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'addr') settings.addr = str(v, 'http.addr');
        else if (k === 'tls' && (v === null || isMap(v))) {
          for (const [t, tv] of Object.entries(v ?? {})) {
            if (t === 'certificate') settings.tlsCert = str(tv, 'http.tls.certificate');
            else if (t === 'key') settings.tlsKey = str(tv, 'http.tls.key');
            else refuse(`http.tls.${t}`, "ts-docker's registry takes only http.tls.certificate and http.tls.key");
          }
        } else ignored.push(`http.${k}`);
      }
    } else if (key === 'auth') {
      // docker-registry accepts `auth: htpasswd` (a type without parameters) as well as a mapping.
      const auth = typeof value === 'string' ? { [value]: {} } : value ?? {};
      if (!isMap(auth)) throw new InvalidArgumentError(`${source}: auth must be a mapping`);
      for (const [kind, params] of Object.entries(auth)) {
        if (kind !== 'htpasswd') refuse(`auth.${kind}`, "ts-docker's registry has htpasswd (Basic) auth only");
        if (params !== null && !isMap(params)) throw new InvalidArgumentError(`${source}: auth.htpasswd must be a mapping`);
        settings.auth = 'htpasswd';
        for (const [k, v] of Object.entries(params ?? {})) {
          if (k === 'realm') settings.realm = str(v, 'auth.htpasswd.realm');
          else if (k === 'path') settings.htpasswd = str(v, 'auth.htpasswd.path');
          else ignored.push(`auth.htpasswd.${k}`);
        }
      }
    } else if (key === 'storage' && isMap(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'filesystem' && (v === null || isMap(v))) {
          for (const [f, fv] of Object.entries(v ?? {})) {
            if (f === 'rootdirectory') settings.root = str(fv, 'storage.filesystem.rootdirectory');
            else ignored.push(`storage.filesystem.${f}`);
          }
        } else if (k === 'maintenance' && isMap(v)) {
          for (const [mk, mv] of Object.entries(v)) {
            if (mk === 'uploadpurging' && (mv === null || isMap(mv))) {
              for (const [pk, pv] of Object.entries(mv ?? {})) {
                if (pk === 'enabled' || pk === 'age' || pk === 'interval' || pk === 'dryrun') {
                  Object.assign(settings, maintenanceValue(pk, pv, `${source}: storage.maintenance.uploadpurging.${pk}`));
                } else ignored.push(`storage.maintenance.uploadpurging.${pk}`);
              }
            } else ignored.push(`storage.maintenance.${mk}`);
          }
        } else if (STORAGE_OPTIONS.includes(k)) ignored.push(`storage.${k}`);
        else refuse(`storage.${k}`, "ts-docker's registry stores on the local filesystem only (storage.filesystem)");
      }
    } else if (key === 'tsdocker' && isMap(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'maxuploadsperclient') Object.assign(settings, maintenanceValue(k, v, `${source}: tsdocker.maxuploadsperclient`));
        else ignored.push(`tsdocker.${k}`);
      }
    } else if (key === 'proxy') {
      refuse('proxy', "ts-docker's registry is not a pull-through cache");
    } else {
      ignored.push(key);
    }
  }
  return { settings, ignored };
}

/** Reads docker-registry's `config.yml` (`registry serve CONFIG`); a missing file or bad YAML is one clear line. */
export async function readConfigFile(file: string): Promise<LoadedSettings> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InvalidArgumentError(`registry configuration ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`registry configuration ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  return settingsFromConfig(doc, file);
}

/** The variables the built-in registry reads, and the setting each one sets. */
export const REGISTRY_ENV: Readonly<Record<string, 'addr' | 'tlsCert' | 'tlsKey' | 'realm' | 'htpasswd' | 'root'>> = {
  REGISTRY_HTTP_ADDR: 'addr',
  REGISTRY_HTTP_TLS_CERTIFICATE: 'tlsCert',
  REGISTRY_HTTP_TLS_KEY: 'tlsKey',
  REGISTRY_AUTH_HTPASSWD_REALM: 'realm',
  REGISTRY_AUTH_HTPASSWD_PATH: 'htpasswd',
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: 'root',
};

/**
 * docker-registry's environment overrides (`REGISTRY_` + the config path in capitals, joined by
 * `_`), for the keys above. `REGISTRY_AUTH=htpasswd` picks the auth type as the registry image's
 * documentation shows; another auth type, TLS option or storage driver is refused; other
 * `REGISTRY_*` variables are returned as ignored.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv): LoadedSettings {
  const settings: RegistrySettings = {};
  const ignored: string[] = [];
  const refuse = (name: string, why: string): never => {
    throw new InvalidArgumentError(`${name} is not supported: ${why}`);
  };
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('REGISTRY_') || value === undefined) continue;
    const known = REGISTRY_ENV[name];
    if (known) settings[known] = value;
    // podman, skopeo and buildah read REGISTRY_AUTH_FILE (containers-auth.json(5)): a client setting
    // that is often exported in shells, not one of the registry's (docker-registry refuses to start on it).
    else if (name === 'REGISTRY_AUTH_FILE') continue;
    else if (name.startsWith('REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_')) {
      const key = name.slice('REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_'.length).toLowerCase();
      if (key === 'enabled' || key === 'age' || key === 'interval' || key === 'dryrun') Object.assign(settings, maintenanceValue(key, value, name));
      else ignored.push(name);
    } else if (name === 'REGISTRY_TSDOCKER_MAXUPLOADSPERCLIENT') Object.assign(settings, maintenanceValue('maxuploadsperclient', value, name));
    else if (name === 'REGISTRY_AUTH') {
      if (value !== 'htpasswd') refuse(`${name}=${value}`, "ts-docker's registry has htpasswd (Basic) auth only");
      settings.auth = 'htpasswd';
    } else if (name.startsWith('REGISTRY_AUTH_')) refuse(name, "ts-docker's registry has htpasswd (Basic) auth only");
    else if (name.startsWith('REGISTRY_HTTP_TLS_')) refuse(name, "ts-docker's registry takes only REGISTRY_HTTP_TLS_CERTIFICATE and REGISTRY_HTTP_TLS_KEY");
    else if (name === 'REGISTRY_STORAGE') {
      if (value !== 'filesystem') refuse(`${name}=${value}`, "ts-docker's registry stores on the local filesystem only");
    } else if (name.startsWith('REGISTRY_STORAGE_') && !name.startsWith('REGISTRY_STORAGE_FILESYSTEM_')) {
      const option = name.slice('REGISTRY_STORAGE_'.length).split('_')[0]!.toLowerCase();
      if (STORAGE_OPTIONS.includes(option)) ignored.push(name);
      else refuse(name, "ts-docker's registry stores on the local filesystem only");
    } else if (name.startsWith('REGISTRY_PROXY_')) refuse(name, "ts-docker's registry is not a pull-through cache");
    else ignored.push(name);
  }
  return { settings, ignored: ignored.sort() };
}
