/**
 * ts-docker's own credentials file, `credentials.json` in its config dir, kept with conf in
 * docker's `auths` shape and readable by its owner only (mode 0600). It is not encrypted:
 * configure a credential helper to keep secrets out of it. Reads parse the JSON directly; conf
 * (with ajv, ~40 ms of module loading) is imported only to write, by `login` and `logout`.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import type Conf from 'conf';
import type { Credentials } from '../transport/auth.js';
import type { DockerAuthEntry } from './docker-config.js';
import { credentialsFromEntry, findAuthEntry } from './docker-config.js';
import { ConfigFileError, jsonSyntaxReason } from './errors.js';
import { readJsonFile } from './json-file.js';
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

  /** conf on the file, opened on first write. */
  private async conf(): Promise<Conf<CredentialsDoc>> {
    const { default: Conf } = await import('conf');
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
      throw new ConfigFileError(this.path, `${this.path} is not valid JSON: ${jsonSyntaxReason(err)}`);
    }
  }

  /** The file's `auths` (none when there is no file), read as conf reads it; a damaged file is an error naming it. */
  private auths(): Record<string, DockerAuthEntry> {
    const doc = readJsonFile(this.path) as CredentialsDoc | null | undefined;
    return { ...(doc?.auths ?? {}) };
  }

  /** Credentials stored for a registry key, or undefined. */
  get(key: string): Credentials | undefined {
    const entry = findAuthEntry(this.auths(), key);
    return entry ? credentialsFromEntry(entry, this.path, key) : undefined;
  }

  /** Stores credentials under a registry key (an identity token replaces the password, as docker does). */
  async set(key: string, cred: Credentials): Promise<void> {
    const auths = this.auths();
    for (const k of Object.keys(auths)) if (sameRegistry(k, key)) delete auths[k];
    auths[key] = cred.identityToken
      ? { ...(cred.username ? { auth: Buffer.from(`${cred.username}:`).toString('base64') } : {}), identitytoken: cred.identityToken }
      : { auth: Buffer.from(`${cred.username ?? ''}:${cred.password ?? ''}`).toString('base64') };
    await this.write(auths);
  }

  /** Removes a registry key's credentials; false when there were none. */
  async remove(key: string): Promise<boolean> {
    const auths = this.auths();
    const keys = Object.keys(auths).filter((k) => sameRegistry(k, key));
    if (keys.length === 0) return false;
    for (const k of keys) delete auths[k];
    await this.write(auths);
    return true;
  }

  private async write(auths: Record<string, DockerAuthEntry>): Promise<void> {
    const conf = await this.conf();
    conf.store = { ...conf.store, auths };
    // The write goes through a temp file created 0600; make sure an older, laxer file is fixed too.
    chmodSync(this.path, 0o600);
  }
}
