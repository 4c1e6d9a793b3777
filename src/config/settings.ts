/**
 * Client settings (`config.json` in ts-docker's config dir). Read here as plain JSON, without
 * conf: conf (with ajv and friends) is ~20 ms of module loading that every push and pull paid
 * to read one small file. ts-docker never writes this file; conf remains the writer of the
 * credentials file (credentials-file.ts), the one module that imports it.
 */
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { readJsonFile } from './json-file.js';
import { configDir } from './paths.js';

/** What can be set in `config.json`. */
export interface Settings {
  /** Upload chunk size, bytes or `512k` / `16m` style. */
  chunkSize?: number | string;
  maxConcurrentUploads?: number;
  maxConcurrentDownloads?: number;
  /** Registries spoken to over plain HTTP besides localhost / 127.0.0.0/8 / ::1. */
  insecureRegistries?: string[];
  /** Credential helper for every registry (`pass` runs `docker-credential-pass`), as in docker's config.json. */
  credsStore?: string;
  /** Credential helper per registry (`{"ghcr.io": "pass"}`), as in docker's config.json. */
  credHelpers?: Record<string, string>;
  /** Seconds to wait for a response's headers (default 60; 0: no limit). `TS_DOCKER_HEADERS_TIMEOUT` wins. */
  headersTimeout?: number | string;
  /** Seconds a body may bring less than 1 KiB before it counts as stalled (default 30; 0: no limit). `TS_DOCKER_STALL_TIMEOUT` wins. */
  stallTimeout?: number | string;
}

/** Reads a number of seconds (`30`, `2.5`, `0` for no limit) into ms. */
export function parseSeconds(v: string | number, what: string): number {
  const n = typeof v === 'number' ? v : /^\s*\d+(?:\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`invalid ${what} ${JSON.stringify(String(v))}: use a number of seconds (0: no limit)`);
  return Math.round(n * 1000);
}

/**
 * The transport's timeouts in ms from the environment (`TS_DOCKER_HEADERS_TIMEOUT`,
 * `TS_DOCKER_STALL_TIMEOUT`, in seconds) or else the settings (`headersTimeout`, `stallTimeout`);
 * absent ones are left to the transport's defaults (60 s and 30 s).
 */
export function timeoutSettings(settings: Settings, env: NodeJS.ProcessEnv = process.env): { headersTimeoutMs?: number; stallTimeoutMs?: number } {
  const out: { headersTimeoutMs?: number; stallTimeoutMs?: number } = {};
  const pick = (name: string, key: 'headersTimeout' | 'stallTimeout'): number | undefined => {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') return parseSeconds(fromEnv, name);
    const v = settings[key];
    return v === undefined || v === '' ? undefined : parseSeconds(v, `${key} setting`);
  };
  const headers = pick('TS_DOCKER_HEADERS_TIMEOUT', 'headersTimeout');
  const stall = pick('TS_DOCKER_STALL_TIMEOUT', 'stallTimeout');
  if (headers !== undefined) out.headersTimeoutMs = headers;
  if (stall !== undefined) out.stallTimeoutMs = stall;
  return out;
}

/** Reads settings from `dir` (else `$TS_DOCKER_CONFIG`, else `~/.config/ts-docker`); a missing file is `{}`. */
export function loadSettings(dir?: string): Settings {
  const doc = readJsonFile(join(configDir(dir), 'config.json'));
  // As conf's store: the file's top-level properties (null and non-objects give none).
  return Object.assign({}, doc) as Settings;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** Parses `512k`, `16m`, `1048576` (binary units, as docker's --shm-size and friends). */
export function parseSize(v: string | number, what = 'size'): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(String(v).trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) throw new InvalidArgumentError(`invalid ${what} "${v}": use a number of bytes or a size like 512k, 16m`);
  return Math.round(Number(m[1]) * unit);
}
