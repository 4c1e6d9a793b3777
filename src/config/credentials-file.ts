/**
 * ts-docker's own credentials file, `credentials.json` in its config dir, kept with conf in
 * docker's `auths` shape and readable by its owner only (mode 0600). It is not encrypted:
 * configure a credential helper to keep secrets out of it.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import type { Credentials } from '../transport/auth.js';
import type { DockerAuthEntry } from './docker-config.js';
import { credentialsFromEntry, findAuthEntry } from './docker-config.js';
import { ConfigFileError } from './errors.js';
import { configDir } from './paths.js';
import { sameRegistry } from './registry-key.js';

interface CredentialsDoc {
  auths?: Record<string, DockerAuthEntry>;
}

/** The credentials file of one config dir (`dir`, else conf's default `~/.config/ts-docker`). */
export class CredentialsFile {
  /** The file's path. */
  readonly path: string;
  private opened: Conf<CredentialsDoc> | undefined;

  constructor(private readonly dir?: string) {
    this.path = join(configDir(dir), 'credentials.json');
  }

  /** Opened on first use, so a damaged file only matters to commands that need credentials. */
  private get conf(): Conf<CredentialsDoc> {
    try {
      this.opened ??= new Conf<CredentialsDoc>({
        projectName: 'ts-docker',
        projectSuffix: '',
        configName: 'credentials',
        ...(this.dir ? { cwd: this.dir } : {}),
        configFileMode: 0o600,
        // Keys are hosts like `127.0.0.1:5000`: dots must not be read as nesting.
        accessPropertiesByDotNotation: false,
        clearInvalidConfig: false,
      });
      return this.opened;
    } catch (err) {
      throw new ConfigFileError(this.path, `${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  private auths(): Record<string, DockerAuthEntry> {
    const conf = this.conf;
    try {
      return { ...(conf.store.auths ?? {}) };
    } catch (err) {
      throw new ConfigFileError(this.path, `${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Credentials stored for a registry key, or undefined. */
  get(key: string): Credentials | undefined {
    const entry = findAuthEntry(this.auths(), key);
    return entry ? credentialsFromEntry(entry, this.path, key) : undefined;
  }

  /** Stores credentials under a registry key (an identity token replaces the password, as docker does). */
  set(key: string, cred: Credentials): void {
    const auths = this.auths();
    for (const k of Object.keys(auths)) if (sameRegistry(k, key)) delete auths[k];
    auths[key] = cred.identityToken
      ? { ...(cred.username ? { auth: Buffer.from(`${cred.username}:`).toString('base64') } : {}), identitytoken: cred.identityToken }
      : { auth: Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`).toString('base64') };
    this.write(auths);
  }

  /** Removes a registry key's credentials; false when there were none. */
  remove(key: string): boolean {
    const auths = this.auths();
    const keys = Object.keys(auths).filter((k) => sameRegistry(k, key));
    if (keys.length === 0) return false;
    for (const k of keys) delete auths[k];
    this.write(auths);
    return true;
  }

  private write(auths: Record<string, DockerAuthEntry>): void {
    this.conf.store = { ...this.conf.store, auths };
    // The write goes through a temp file created 0600; make sure an older, laxer file is fixed too.
    chmodSync(this.path, 0o600);
  }
}
