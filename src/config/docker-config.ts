/**
 * Docker's own client config, read (never written): `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`, with `auths`, `credsStore` and `credHelpers`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../transport/auth.js';
import { ConfigFileError } from './errors.js';
import { readJsonFile } from './json-file.js';
import { sameRegistry } from './registry-key.js';

/** One `auths` entry as docker writes it (`auth` is base64 of `user:password`). */
export interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

/** The parts of docker's config.json that concern credentials. */
export interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Where docker keeps its client config: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['DOCKER_CONFIG'] || join(homedir(), '.docker');
  return join(dir, 'config.json');
}

/** Reads a docker-format config file; undefined when it does not exist. */
export async function readDockerConfig(path: string): Promise<DockerConfigFile | undefined> {
  const doc = readJsonFile(path);
  if (doc === undefined) return undefined;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigFileError(path, `${path} is not valid JSON: not a JSON object`);
  return doc as DockerConfigFile;
}

/** The entry of `auths` for a registry key, matching keys written as URLs (`https://host/v1/`) too. */
export function findAuthEntry(auths: Record<string, DockerAuthEntry> | undefined, key: string): DockerAuthEntry | undefined {
  if (!auths) return undefined;
  if (auths[key]) return auths[key];
  const found = Object.keys(auths).find((k) => sameRegistry(k, key));
  return found === undefined ? undefined : auths[found];
}

/** The helper configured for a registry key in a docker-format file: `credHelpers[key]`, else `credsStore`. */
export function helperIn(doc: Pick<DockerConfigFile, 'credsStore' | 'credHelpers'> | undefined, key: string): string | undefined {
  if (!doc) return undefined;
  const helpers = doc.credHelpers ?? {};
  const byKey = helpers[key] ?? Object.entries(helpers).find(([k]) => sameRegistry(k, key))?.[1];
  return byKey || doc.credsStore || undefined;
}

/** Turns an `auths` entry into credentials; `path` names the file in errors (never the secret). */
export function credentialsFromEntry(entry: DockerAuthEntry, path: string, key: string): Credentials | undefined {
  if (entry.identitytoken) {
    // docker keeps the username beside an identity token as `auth` = base64("user:").
    const user = entry.username ?? (entry.auth ? Buffer.from(entry.auth, 'base64').toString('utf8').split(':')[0] : undefined);
    return { identityToken: entry.identitytoken, ...(user ? { username: user } : {}) };
  }
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    // docker: "invalid auth configuration file" when the decoded value has no user:password shape.
    if (colon <= 0) throw new ConfigFileError(path, `invalid auth configuration file ${path}: the "auth" of ${key} is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username) return { username: entry.username, password: entry.password ?? '' };
  return undefined;
}
