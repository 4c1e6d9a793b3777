/**
 * Where registry credentials come from and go to, in docker's order: a credential helper when one
 * is configured for the registry (`credHelpers`, else `credsStore`; in ts-docker's config.json,
 * else docker's), then ts-docker's own credentials file, then the `auths` of docker's
 * config.json. `login` stores to the helper when there is one, else to ts-docker's file; docker's
 * config.json is only ever read.
 */
import { join } from 'node:path';
import type { CredentialProvider, Credentials } from '../transport/auth.js';
import { CredentialHelper } from './credential-helper.js';
import { CredentialsFile } from './credentials-file.js';
import type { DockerConfigFile } from './docker-config.js';
import { credentialsFromEntry, dockerConfigPath, findAuthEntry, helperIn, readDockerConfig } from './docker-config.js';
import { configDir } from './paths.js';
import { registryKey } from './registry-key.js';
import { loadSettings } from './settings.js';

/** Where `save` put the credentials. */
export type SavedTo = { kind: 'helper'; program: string } | { kind: 'file'; path: string };

/** What `remove` did. */
export interface Removed {
  /** True when some store held credentials for the registry. */
  removed: boolean;
  /** Set when docker's config.json still has an entry for it (ts-docker never edits that file). */
  dockerConfigStillHas?: string;
}

/** Options of {@link CredentialStore}. */
export interface CredentialStoreOptions {
  /** ts-docker's config dir (`--config`); conf's default when undefined. */
  configDir?: string;
  /** Environment for `DOCKER_CONFIG`, `HOME` and the helpers' PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** Every credential source of one ts-docker config dir plus docker's config. */
export class CredentialStore {
  /** ts-docker's own credentials file. */
  readonly file: CredentialsFile;
  /** docker's config.json path (read only). */
  readonly dockerConfigPath: string;
  private readonly settingsPath: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly dir: string | undefined;
  private docker: Promise<DockerConfigFile | undefined> | undefined;

  constructor(opts: CredentialStoreOptions = {}) {
    this.env = opts.env ?? process.env;
    this.dir = opts.configDir;
    this.file = new CredentialsFile(opts.configDir);
    this.settingsPath = join(configDir(opts.configDir), 'config.json');
    this.dockerConfigPath = dockerConfigPath(this.env);
  }

  private dockerConfig(): Promise<DockerConfigFile | undefined> {
    this.docker ??= readDockerConfig(this.dockerConfigPath);
    return this.docker;
  }

  /** The helper that holds credentials for a registry key, if one is configured. */
  async helperFor(key: string): Promise<CredentialHelper | undefined> {
    const ours = helperIn(loadSettings(this.dir), key);
    if (ours) return new CredentialHelper(ours, `credsStore/credHelpers in ${this.settingsPath}`, this.env);
    const theirs = helperIn(await this.dockerConfig(), key);
    if (theirs) return new CredentialHelper(theirs, `credsStore/credHelpers in ${this.dockerConfigPath}`, this.env);
    return undefined;
  }

  /** Credentials for a registry (a host, login server or API host), or undefined. */
  async lookup(server: string): Promise<Credentials | undefined> {
    const key = registryKey(server);
    const helper = await this.helperFor(key);
    if (helper) {
      const cred = await helper.get(key);
      if (cred) return cred;
    }
    const own = this.file.get(key);
    if (own) return own;
    const docker = await this.dockerConfig();
    // With a helper configured in docker's file, docker ignores its plain `auths`: so do we.
    if (docker && !helperIn(docker, key)) {
      const entry = findAuthEntry(docker.auths, key);
      if (entry) return credentialsFromEntry(entry, this.dockerConfigPath, key);
    }
    return undefined;
  }

  /** Stores credentials for a login server: in its helper when configured, else in ts-docker's file. */
  async save(server: string, cred: Credentials): Promise<SavedTo> {
    const key = registryKey(server);
    const helper = await this.helperFor(key);
    if (helper) {
      await helper.store(key, cred);
      return { kind: 'helper', program: helper.program };
    }
    await this.file.set(key, cred);
    return { kind: 'file', path: this.file.path };
  }

  /** Removes a login server's credentials from its helper and from ts-docker's file. */
  async remove(server: string): Promise<Removed> {
    const key = registryKey(server);
    const helper = await this.helperFor(key);
    const fromHelper = helper ? await helper.erase(key) : false;
    const fromFile = await this.file.remove(key);
    const docker = await this.dockerConfig();
    const still = docker && !helperIn(docker, key) && findAuthEntry(docker.auths, key) ? this.dockerConfigPath : undefined;
    return { removed: fromHelper || fromFile, ...(still ? { dockerConfigStillHas: still } : {}) };
  }

  /** A provider for the transport: looks each registry up once per process (helpers are not re-run per request). */
  provider(): CredentialProvider {
    const seen = new Map<string, Promise<Credentials | undefined>>();
    return (host) => {
      const key = registryKey(host);
      let p = seen.get(key);
      if (!p) {
        p = this.lookup(key);
        seen.set(key, p);
      }
      return p;
    };
  }
}
