/**
 * TLS per registry host, as docker does it: the system CAs plus every `*.crt` in
 * `certs.d/<host[:port]>/` (ts-docker's config dir first, then `/etc/docker/certs.d`), and a
 * client certificate (`*.cert` with the `*.key` of the same name) for mutual TLS. Also the
 * words for TLS failures, which say which folder to put what in.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { connect, createSecureContext, rootCertificates } from 'node:tls';
import type { SecureContext } from 'node:tls';
import { TsDockerError } from '../errors.js';

/** A TLS handshake that failed for a reason retrying cannot fix (untrusted certificate, plain HTTP server...). */
export class TlsError extends TsDockerError {
  constructor(readonly host: string, message: string, options?: { cause?: unknown }) {
    super('TLS', message, options);
  }
}

/** What certs.d holds for one host. */
export interface HostCerts {
  /** PEM CA certificates (`*.crt`). */
  ca: string[];
  /** The client certificate and key (`client.cert` + `client.key`), when there is one. */
  cert?: string;
  key?: string;
}

/** The folder names a host's files may be under: `host:port`, and for 443 also the bare host (docker's habit). */
function folderNames(host: string): string[] {
  if (/:\d+$/.test(host) && !host.endsWith(']')) return host.endsWith(':443') ? [host, host.slice(0, -4)] : [host];
  return [host, `${host}:443`];
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Reads `<dir>/<host>/` of every certs.d dir: every `*.crt` is a CA; the first `*.cert` + `*.key` pair is the client certificate. */
export function readHostCerts(certsDirs: readonly string[], host: string): HostCerts {
  const out: HostCerts = { ca: [] };
  for (const base of certsDirs) {
    for (const name of folderNames(host)) {
      const dir = join(base, name);
      const files = listDir(dir);
      for (const f of files.filter((x) => x.endsWith('.crt'))) out.ca.push(readFileSync(join(dir, f), 'utf8'));
      for (const f of files.filter((x) => x.endsWith('.cert'))) {
        const key = `${f.slice(0, -'.cert'.length)}.key`;
        // docker: "missing key client.key for client certificate client.cert. CA must use .crt, not .cert".
        if (!files.includes(key)) throw new TlsError(host, `missing key ${key} for client certificate ${join(dir, f)}. Note that CA certificates must use .crt, not .cert`);
        if (out.cert === undefined) {
          out.cert = readFileSync(join(dir, f), 'utf8');
          out.key = readFileSync(join(dir, key), 'utf8');
        }
      }
      for (const f of files.filter((x) => x.endsWith('.key'))) {
        const cert = `${f.slice(0, -'.key'.length)}.cert`;
        if (!files.includes(cert)) throw new TlsError(host, `missing client certificate ${cert} for key ${join(dir, f)}`);
      }
    }
  }
  return out;
}

/** The first system CA bundle found (Go's list, as docker on Linux uses), read once. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/etc/ssl/cert.pem',
];
let systemCas: string[] | undefined;

/** Node's bundled roots, the system bundle, and `NODE_EXTRA_CA_CERTS` (all lost when `ca` is set, so added back). */
function systemRoots(): string[] {
  if (systemCas) return systemCas;
  const found: string[] = [...rootCertificates];
  const bundle = SYSTEM_BUNDLES.map(readOrUndefined).find((text) => text !== undefined);
  if (bundle) found.push(bundle);
  const extra = process.env['NODE_EXTRA_CA_CERTS'] ? readOrUndefined(process.env['NODE_EXTRA_CA_CERTS']) : undefined;
  if (extra) found.push(extra);
  systemCas = found;
  return found;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * One secure context for a host (made once: building it from ~300 CAs costs tens of ms per
 * connection otherwise). `alsoTrust`: a registry host whose certs.d CAs are trusted too and whose
 * client certificate is used when `host` has none (a registry's token service, as docker does).
 */
export function secureContextFor(certsDirs: readonly string[], host: string, maxVersion?: 'TLSv1.2', alsoTrust?: string): SecureContext {
  const certs = readHostCerts(certsDirs, host);
  if (alsoTrust) {
    const registry = readHostCerts(certsDirs, alsoTrust);
    certs.ca.push(...registry.ca);
    if (certs.cert === undefined && registry.cert !== undefined) {
      certs.cert = registry.cert;
      certs.key = registry.key;
    }
  }
  try {
    return createSecureContext({
      ca: [...systemRoots(), ...certs.ca],
      ...(certs.cert ? { cert: certs.cert, key: certs.key } : {}),
      ...(maxVersion ? { maxVersion } : {}),
    });
  } catch (err) {
    throw new TlsError(host, `bad certificate or key in certs.d for ${host}: ${(err as Error).message}`, { cause: err });
  }
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);
const PLAIN_HTTP = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);
const CLIENT_CERT = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
]);

/** The code of an error or of one of its causes. */
function codeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: string }).code;
    if (code && (UNTRUSTED.has(code) || PLAIN_HTTP.has(code) || CLIENT_CERT.has(code) || code.startsWith('CERT_') || code === 'ERR_TLS_CERT_ALTNAME_INVALID')) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns a TLS failure on an `https` request into a {@link TlsError} that says what to do; undefined for other errors. */
export function explainTlsFailure(err: unknown, url: string, certsDirs: readonly string[]): TlsError | undefined {
  if (err instanceof TlsError) return err;
  const { protocol, host } = new URL(url);
  if (protocol !== 'https:') return undefined;
  const code = codeOf(err);
  if (!code) return undefined;
  const where = certsDirs.map((d) => join(d, host)).join(' or ');
  const detail = (err as Error).message?.split('\n')[0] ?? code;
  if (UNTRUSTED.has(code)) {
    return new TlsError(host,
      `tls: failed to verify certificate of ${host}: x509: certificate signed by unknown authority (${detail}); `
      + `if the registry uses a private CA, put the CA certificate as ca.crt in ${where}`, { cause: err });
  }
  if (PLAIN_HTTP.has(code)) {
    // What Go clients (docker, skopeo) say when a plain-HTTP registry is addressed as HTTPS.
    return new TlsError(host,
      `http: server gave HTTP response to HTTPS client: ${host} speaks plain HTTP; if you trust the network to it, `
      + `use --insecure-registry ${host} or add "insecureRegistries": ["${host}"] to the config.json in your config dir`, { cause: err });
  }
  if (CLIENT_CERT.has(code)) {
    return new TlsError(host,
      `tls: ${host} refused the TLS handshake (${detail}): if it wants a client certificate, put client.cert and client.key in ${where}`, { cause: err });
  }
  return new TlsError(host, `tls: certificate of ${host} is not valid: ${detail}`, { cause: err });
}

/**
 * True when the server at `url` insists on a client certificate. Over TLS 1.3 a server that
 * refuses a missing client certificate (docker-registry with `clientcas`) often just resets the
 * connection after the handshake, so the client cannot tell why; a TLS 1.2 handshake gets the
 * refusal as an alert during the handshake, which says so.
 */
export function requiresClientCert(url: string, certsDirs: readonly string[], verify: boolean): Promise<boolean> {
  const { hostname, port, host: hostPort } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  // The version cap lives in the secure context (connect() ignores maxVersion when given one).
  const secureContext = secureContextFor(certsDirs, hostPort, 'TLSv1.2');
  return new Promise((resolve) => {
    const socket = connect({
      host, port: Number(port || 443), secureContext, rejectUnauthorized: verify,
      ...(isIP(host) ? {} : { servername: host }),
    });
    const done = (required: boolean): void => {
      socket.destroy();
      resolve(required);
    };
    socket.setTimeout(10_000, () => done(false));
    socket.once('secureConnect', () => done(false));
    socket.once('error', (err: NodeJS.ErrnoException) => done(CLIENT_CERT.has(err.code ?? '')));
  });
}

/** The message for a registry that wants a client certificate it did not get (or did not accept). */
export function clientCertError(url: string, certsDirs: readonly string[], cause: unknown): TlsError {
  const { host } = new URL(url);
  const where = certsDirs.map((d) => join(d, host)).join(' or ');
  return new TlsError(host, `tls: ${host} requires a client certificate (mutual TLS): put client.cert and client.key in ${where}`, { cause });
}
