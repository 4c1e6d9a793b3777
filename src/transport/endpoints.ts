/**
 * Which connection each request goes out on: one pooled undici Agent for plain HTTP, and one per
 * HTTPS registry host with that host's certs.d trust and client certificate. An insecure
 * registry (reached over plain HTTP) that turns out to speak TLS is reached over HTTPS without
 * certificate verification from then on, as docker does for insecure registries.
 */
import { Readable } from 'node:stream';
import { Agent } from './undici.js';
import { BODY_LIMIT, TooLargeError, readLimited } from './limits.js';
import type { Dispatcher } from 'undici';
import type { TlsError } from './tls.js';
import { clientCertError, explainTlsFailure, readHostCerts, requiresClientCert, secureContextFor } from './tls.js';

/** Sends one request with the given URL and dispatcher. */
export type Send = (url: string, dispatcher: Dispatcher) => Promise<Dispatcher.ResponseData>;

/** Settings of {@link Endpoints}. */
export interface EndpointOptions {
  /** certs.d folders, searched in order. */
  certsDirs: readonly string[];
  /** Max connections per origin. */
  connections: number;
}

/** A TLS server spoken to in plain HTTP: Go's `Client sent an HTTP request to an HTTPS server`, nginx's `plain HTTP request was sent to HTTPS port`. */
const TLS_PORT_ANSWER = /HTTPS server|HTTPS port|SSL|TLS/i;

/** Errors a TLS server gives a plain-HTTP client that sends no TLS (a closed socket or unparsable bytes). */
function looksLikeTlsPort(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code.startsWith('HPE_') || /other side closed|Expected HTTP/i.test(String((err as Error).message));
}

/** A response body already read as text, offered again with undici's body methods. */
function bodyFromText(text: string): Dispatcher.ResponseData['body'] {
  const buf = Buffer.from(text);
  const r = Readable.from([buf]);
  return Object.assign(r, {
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    dump: async () => {
      r.resume();
    },
  }) as unknown as Dispatcher.ResponseData['body'];
}

/** Dispatchers per scheme and host, and what each insecure registry was found to speak. */
export class Endpoints {
  private readonly plain: Agent;
  private readonly agents = new Map<string, Agent>();
  /** Insecure registries found to speak TLS. */
  private readonly upgraded = new Set<string>();
  /** Insecure registries that answered in plain HTTP: not checked again. */
  private readonly settled = new Set<string>();
  /** Per host: does it insist on a client certificate (asked only after a reset)? */
  private readonly mtlsProbes = new Map<string, Promise<boolean>>();

  constructor(private readonly opts: EndpointOptions) {
    this.plain = new Agent(this.poolOptions());
  }

  private poolOptions(): Agent.Options {
    return { connections: this.opts.connections, keepAliveTimeout: 10_000, connect: { timeout: 30_000 } };
  }

  /**
   * The HTTPS agent of a host: verified against system CAs + certs.d, or unverified for an
   * insecure registry. `trustAs`: also what certs.d holds for that registry host (its token service).
   */
  private tlsAgent(host: string, verify: boolean, trustAs?: string): Agent {
    const also = trustAs && trustAs !== host ? trustAs : undefined;
    const key = `${verify ? 'verify' : 'insecure'} ${host}${also ? ` as ${also}` : ''}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const secureContext = secureContextFor(this.opts.certsDirs, host, undefined, also);
      agent = new Agent({ ...this.poolOptions(), connect: { timeout: 30_000, secureContext, rejectUnauthorized: verify } });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /**
   * The URL a request to `url` goes out on now: `https:` for an insecure registry already found
   * to speak TLS (a plain-HTTP first contact still says `http:`: the answer's URL tells).
   */
  resolve(url: string): string {
    const u = new URL(url);
    if (u.protocol === 'http:' && this.upgraded.has(u.host)) u.protocol = 'https:';
    return u.href;
  }

  /**
   * Sends through the right dispatcher; returns the response and the URL it really went to.
   * `bodyless`: the request can be sent twice (needed to try HTTPS after a plain-HTTP attempt).
   * `trustAs`: a registry host whose certs.d also applies (for its token service).
   */
  async send(url: string, bodyless: boolean, trustAs: string | undefined, send: Send): Promise<{ res: Dispatcher.ResponseData; url: string }> {
    const u = new URL(url);
    if (u.protocol === 'http:' && this.upgraded.has(u.host)) u.protocol = 'https:';
    if (u.protocol === 'https:') return { res: await send(u.href, this.tlsAgent(u.host, !this.upgraded.has(u.host), trustAs)), url: u.href };
    if (this.settled.has(u.host) || !bodyless) return { res: await send(url, this.plain), url };
    // First contact with an insecure registry: plain HTTP first (no extra request for the usual
    // plain-HTTP registry), HTTPS without verification when the answer says the port speaks TLS.
    let res: Dispatcher.ResponseData;
    try {
      res = await send(url, this.plain);
    } catch (err) {
      if (!looksLikeTlsPort(err)) throw err;
      const up = await this.tryHttps(u, send);
      if (up) return up;
      throw err;
    }
    if (res.statusCode === 400) {
      // Bounded: a hostile 400 body must not fill memory (an over-long one is no TLS hint anyway).
      const text = await readLimited(res.body, BODY_LIMIT, 'error body', res.headers['content-length'] as string | undefined)
        .then((b) => b.toString('utf8'), (err: unknown) => {
          if (err instanceof TooLargeError) return '';
          throw err;
        });
      if (TLS_PORT_ANSWER.test(text)) {
        const up = await this.tryHttps(u, send);
        if (up) return up;
      }
      res = { ...res, body: bodyFromText(text) };
    }
    this.settled.add(u.host);
    return { res, url };
  }

  private async tryHttps(u: URL, send: Send): Promise<{ res: Dispatcher.ResponseData; url: string } | undefined> {
    const https = new URL(u.href);
    https.protocol = 'https:';
    try {
      const res = await send(https.href, this.tlsAgent(u.host, false));
      this.upgraded.add(u.host);
      return { res, url: https.href };
    } catch {
      return undefined;
    }
  }

  /**
   * A failure of a request to `url` explained when it is a TLS matter (untrusted certificate,
   * plain-HTTP server, client certificate wanted); undefined for other failures.
   */
  async explain(err: unknown, url: string): Promise<TlsError | undefined> {
    const known = explainTlsFailure(err, url, this.opts.certsDirs);
    if (known) return known;
    const u = new URL(url);
    if (u.protocol !== 'https:' && !this.upgraded.has(u.host)) return undefined;
    // A reset right after an HTTPS handshake, with no client certificate configured: ask once
    // whether the server wants one, so the user hears that instead of "connection reset".
    if (!looksLikeTlsPort(err) || readHostCerts(this.opts.certsDirs, u.host).cert !== undefined) return undefined;
    let probe = this.mtlsProbes.get(u.host);
    if (!probe) {
      u.protocol = 'https:';
      probe = requiresClientCert(u.href, this.opts.certsDirs, !this.upgraded.has(u.host));
      this.mtlsProbes.set(u.host, probe);
    }
    return (await probe) ? clientCertError(u.href, this.opts.certsDirs, err) : undefined;
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    await Promise.all([this.plain, ...this.agents.values()].map((a) => a.close()));
  }
}
