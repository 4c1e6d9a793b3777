/**
 * `login` / `logout`: check credentials against a registry's `/v2/` with the full challenge flow
 * (Basic, or a Bearer token fetched with them) before storing them, and remove them again.
 */
import { CredentialStore } from '../config/credentials.js';
import type { Removed, SavedTo } from '../config/credentials.js';
import { certsDirs } from '../config/paths.js';
import { DOCKER_HUB_KEY, registryKey } from '../config/registry-key.js';
import { TsDockerError } from '../errors.js';
import { apiHost } from '../registry/client.js';
import { AuthError } from '../transport/auth.js';
import type { Credentials } from '../transport/auth.js';
import { schemeFor } from '../transport/scheme.js';
import { Transport, statusText } from '../transport/transport.js';

/** The registry refused the credentials (docker's `unauthorized: incorrect username or password`). */
export class LoginError extends TsDockerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHORIZED', message, options);
  }
}

/** Options of {@link login} and {@link logout}. */
export interface LoginOptions {
  /** ts-docker's config dir (`--config`); conf's default when undefined. */
  configDir?: string;
  /** Registries spoken to over plain HTTP besides the loopback ones. */
  insecure?: readonly string[];
  /** Environment for DOCKER_CONFIG, HOME and credential helpers (default process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** A login server argument resolved: where credentials are filed and which host answers `/v2/`. */
export interface LoginTarget {
  /** The key credentials are stored under (`localhost:5000`, `https://index.docker.io/v1/`). */
  key: string;
  /** The registry API host (`registry-1.docker.io` for Docker Hub). */
  host: string;
}

/** Resolves `login [SERVER]` (default Docker Hub). */
export function loginTarget(server?: string): LoginTarget {
  const key = registryKey(server ?? DOCKER_HUB_KEY);
  return { key, host: key === DOCKER_HUB_KEY ? apiHost('docker.io') : key };
}

/**
 * Checks credentials with `GET /v2/` through the challenge flow; returns what to store: the
 * credentials, or the identity (refresh) token when the token service issued one, as docker does.
 */
export async function verifyLogin(target: LoginTarget, cred: Credentials, opts: LoginOptions = {}): Promise<Credentials> {
  const transport = new Transport({ credentials: async () => cred, certsDirs: certsDirs(opts.configDir) });
  transport.auth.requestRefreshToken = cred.username !== undefined;
  const url = `${schemeFor(target.host, opts.insecure)}://${target.host}/v2/`;
  try {
    const res = await transport.fetch({ method: 'GET', url, firstContact: true, signal: opts.signal });
    await res.body.dump().catch(() => undefined);
    if (res.status === 200) {
      const refresh = transport.auth.refreshToken(target.host);
      return refresh ? { ...(cred.username ? { username: cred.username } : {}), identityToken: refresh } : cred;
    }
    if (res.status === 401) throw new LoginError(`login attempt to ${url} failed: unauthorized: incorrect username or password`);
    throw new LoginError(`login attempt to ${url} failed with status: ${res.status} ${statusText(res.status)}`.trim());
  } catch (err) {
    // The token service said no to the credentials (Bearer registries).
    if (err instanceof AuthError && /^unauthorized/.test(err.message)) {
      throw new LoginError(`login attempt to ${url} failed: unauthorized: incorrect username or password`);
    }
    throw err;
  } finally {
    await transport.close().catch(() => undefined);
  }
}

/** Verifies credentials and stores them (helper, else ts-docker's credentials file); nothing is stored on failure. */
export async function login(server: string | undefined, cred: Credentials, opts: LoginOptions = {}): Promise<SavedTo> {
  const target = loginTarget(server);
  const toStore = await verifyLogin(target, cred, opts);
  return new CredentialStore({ configDir: opts.configDir, env: opts.env }).save(target.key, toStore);
}

/** Credentials already stored for a login server, if any. */
export async function storedLogin(server: string | undefined, opts: LoginOptions = {}): Promise<Credentials | undefined> {
  return new CredentialStore({ configDir: opts.configDir, env: opts.env }).lookup(loginTarget(server).key);
}

/** Removes stored credentials of a login server. */
export async function logout(server: string | undefined, opts: LoginOptions = {}): Promise<Removed & LoginTarget> {
  const target = loginTarget(server);
  const removed = await new CredentialStore({ configDir: opts.configDir, env: opts.env }).remove(target.key);
  return { ...removed, ...target };
}
