/**
 * Registry authentication from challenges: Basic, and Bearer tokens (anonymous when there
 * are no credentials), cached per registry and scope, fetched again when one expires or a
 * 401 says it is no longer good. Credentials come from a provider, so stored logins and
 * credential helpers plug in without touching the transport.
 */
import type { Readable } from 'node:stream';
import { TsDockerError } from '../errors.js';
import { quoteUntrusted } from '../text/escape.js';
import type { Challenge } from './challenge.js';
import { BODY_LIMIT, TooLargeError, readLimited } from './limits.js';

/** A username/password or an identity (refresh) token for one registry. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

/** Looks up credentials for a registry host (`localhost:5000`, `docker.io`). */
export type CredentialProvider = (host: string) => Promise<Credentials | undefined>;

/**
 * What a token fetch needs to do its own HTTP request (so this file stays free of undici). The
 * answer's body is read here, bounded ({@link BODY_LIMIT}), or destroyed.
 */
export type TokenFetcher = (
  url: string,
  // `registry`: the host whose token this is; its TLS trust (certs.d) applies to the token service too.
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; registry: string },
) => Promise<{ status: number; headers: Record<string, string | undefined>; body: Readable }>;

/**
 * The URL a request to `url` really goes out on: an insecure registry found to speak TLS is
 * reached over HTTPS even when its URL says `http:` (endpoints.ts).
 */
export type UrlResolver = (url: string) => string;

/** A token may travel in a header only as visible ASCII (RFC 6750's b64token and JWTs are). */
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

interface CachedToken {
  header: string;
  expiresAt: number;
}

/** Thrown when the registry refuses the credentials or the token service fails (a typed error: never retried). */
export class AuthError extends TsDockerError {
  constructor(message: string) {
    super('UNAUTHORIZED', message);
  }
}

/** Per-process auth state: challenges by host, tokens by host and scope. */
export class Authenticator {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken | undefined>>();
  /** Hosts a response was seen from over TLS (the URL actually used, after any upgrade). */
  private readonly viaHttps = new Set<string>();
  private readonly refreshTokens = new Map<string, string>();
  /** Ask token services for a refresh token too (docker's `offline_token`, used by login). */
  requestRefreshToken = false;

  /** `resolve`: where a URL really goes (default: as written); the token realm is judged by it. */
  constructor(private readonly credentials: CredentialProvider, private readonly fetchToken: TokenFetcher, private readonly resolve: UrlResolver = (u) => u) {}

  /**
   * Notes the URL a response really came from (after the HTTPS upgrade of an insecure registry):
   * a host once seen over TLS never gets credentials over plain HTTP again (see {@link mayAuthorize}).
   */
  sawResponse(url: string): void {
    const u = new URL(url);
    if (u.protocol === 'https:') this.viaHttps.add(u.host);
  }

  /**
   * May the credentials of registry `host` go on a request that really goes out on `url`? Only
   * to that host itself (never a redirect target: blob storage, a CDN), and never over plain
   * HTTP once the host was seen over TLS (a redirect or Location downgrading to `http:`).
   */
  mayAuthorize(host: string, url: string): boolean {
    const u = new URL(url);
    if (u.host !== host) return false;
    return !(u.protocol === 'http:' && this.viaHttps.has(host));
  }

  /**
   * Remembers the challenge a host answered with (from the ping or a 401). `url`: the URL the
   * answer really came from; an HTTPS one marks the host as reached over TLS.
   */
  setChallenge(host: string, challenges: Challenge[], url?: string): void {
    const c = challenges.find((x) => x.scheme === 'bearer') ?? challenges.find((x) => x.scheme === 'basic');
    if (c) this.challenges.set(host, c);
    if (url !== undefined) this.sawResponse(url);
  }

  /** The refresh token a token service issued for `host` (with {@link requestRefreshToken}). */
  refreshToken(host: string): string | undefined {
    return this.refreshTokens.get(host);
  }

  /** True once the host has asked for auth. */
  hasChallenge(host: string): boolean {
    return this.challenges.has(host);
  }

  /** Drops the cached token for a host and scope (after a 401 with it). */
  invalidate(host: string, scope: string): void {
    this.tokens.delete(`${host} ${scope}`);
  }

  /** The Authorization header for a request to `host` needing `scope`, or undefined for none. */
  async header(host: string, scope: string): Promise<string | undefined> {
    const c = this.challenges.get(host);
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      const cred = await this.credentials(host);
      if (!cred?.username) return undefined;
      return `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
    }
    const key = `${host} ${scope}`;
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.header;
    let p = this.pending.get(key);
    if (!p) {
      p = this.bearer(host, c, scope).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const token = await p;
    // No token for anonymous access (the token service wants a login): send the request without
    // one, so that the registry's own 401 says what is missing.
    if (!token) return undefined;
    this.tokens.set(key, token);
    return token.header;
  }

  /** A token for `scope`; undefined when the token service refuses an anonymous client. */
  private async bearer(host: string, c: Challenge, scope: string): Promise<CachedToken | undefined> {
    const realm = c.params['realm'];
    if (!realm) throw new AuthError(`registry ${host} asked for a bearer token without a realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new AuthError(`registry ${host} named an invalid token realm (${quoteUntrusted(realm)})`);
    }
    if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') {
      throw new AuthError(`registry ${host} named a token realm that is not HTTP(S) (${quoteUntrusted(realm)})`);
    }
    const cred = await this.credentials(host);
    // A registry reached over HTTPS (verified, or an insecure one that answered TLS) whose realm
    // is plain HTTP would expose the secret: refuse. Judged by where the realm request would
    // really go: an insecure realm host already found to speak TLS is reached over HTTPS.
    const secret = !!(cred?.identityToken || cred?.username);
    if (secret && this.viaHttps.has(host) && new URL(this.resolve(realmUrl.href)).protocol === 'http:') {
      throw new AuthError(`refusing to send credentials for ${host} to its token service over plain HTTP (${quoteUntrusted(realm)})`);
    }
    const service = c.params['service'];
    const started = Date.now();
    let res;
    if (cred?.identityToken) {
      // OAuth2 refresh-token grant, as docker does for identity tokens.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: 'ts-docker' });
      if (service) form.set('service', service);
      if (scope) form.set('scope', scope);
      res = await this.fetchToken(realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), registry: host });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      // Several scopes (a mount needs pull on the source repository too) go as repeated parameters.
      for (const sc of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', sc);
      const headers: Record<string, string> = {};
      if (cred?.username) {
        url.searchParams.set('account', cred.username);
        if (this.requestRefreshToken) {
          url.searchParams.set('offline_token', 'true');
          url.searchParams.set('client_id', 'ts-docker');
        }
        headers['authorization'] = `Basic ${Buffer.from(`${cred.username}:${cred.password ?? ''}`).toString('base64')}`;
      }
      res = await this.fetchToken(url.toString(), { method: 'GET', headers, registry: host });
    }
    // An error answer's body is never read (nor shown): only its status matters.
    if (res.status >= 400) discard(res.body);
    if (res.status === 401 || res.status === 403) {
      // Token services that serve logged-in users only (GitLab, Harbor or ACR with anonymous access
      // off) refuse anonymous token requests: that is "log in", not "wrong password".
      if (!cred?.identityToken && !cred?.username) return undefined;
      if (cred?.identityToken) {
        throw new AuthError(`unauthorized: the token service of ${host} refused the stored identity token (expired or revoked): log in again with: ts-docker login ${host}`);
      }
      throw new AuthError(`unauthorized: incorrect username or password for ${host}`);
    }
    if (res.status >= 400) throw new AuthError(`token service for ${host} answered ${res.status}`);
    const body = await tokenBody(host, res);
    if (typeof body.refresh_token === 'string' && body.refresh_token) this.refreshTokens.set(host, body.refresh_token);
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || !token) throw new AuthError(`token service for ${host} returned no token`);
    if (!TOKEN_SHAPE.test(token)) throw new AuthError(`token service for ${host} returned a token that is not printable ASCII`);
    // Treat tokens as opaque: expires_in (default 60 s per the token spec), minus a margin.
    const ttl = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    return { header: `Bearer ${token}`, expiresAt: started + Math.max(1000, ttl - 5000) };
  }
}

interface TokenBody {
  token?: unknown;
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
}

function discard(body: Readable): void {
  if (body.listenerCount('error') === 0) body.on('error', () => undefined);
  body.destroy();
}

/**
 * A token service's answer, read bounded ({@link BODY_LIMIT}) and parsed. The body is never
 * quoted in an error, nor V8's parse error (it quotes the input, which may be anything).
 */
async function tokenBody(host: string, res: { headers: Record<string, string | undefined>; body: Readable }): Promise<TokenBody> {
  let bytes: Buffer;
  try {
    bytes = await readLimited(res.body, BODY_LIMIT, `token service response for ${host}`, res.headers['content-length']);
  } catch (err) {
    if (err instanceof TooLargeError) throw new AuthError(err.message);
    throw err;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AuthError(`token service for ${host} returned invalid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new AuthError(`token service for ${host} returned no token`);
  return doc as TokenBody;
}
