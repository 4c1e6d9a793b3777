/**
 * Certificates made with openssl for the TLS and token tests: a CA, server and client
 * certificates it signs, and the self-signed ES256 certificate a token issuer signs with.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool, shOk } from '../../helpers/cli.js';

/** A CA on disk. */
export interface Ca {
  cert: string;
  key: string;
}

/** A certificate and its key on disk. */
export interface Pair {
  cert: string;
  key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await shOk(await requireTool('openssl'), args, { cwd });
}

/** A self-signed CA (`<dir>/<name>-ca.crt`). */
export async function makeCa(dir: string, name = 'test'): Promise<Ca> {
  const cert = join(dir, `${name}-ca.crt`);
  const key = join(dir, `${name}-ca.key`);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=ts-docker ${name} CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { cert, key };
}

/** A certificate signed by `ca`: for a server (`sans` like `DNS:registry.test,IP:127.0.0.1`) or a client. */
export async function signCert(dir: string, ca: Ca, name: string, kind: 'server' | 'client', sans = ''): Promise<Pair> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, [
    'basicConstraints=CA:FALSE',
    `extendedKeyUsage=${kind === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(sans ? [`subjectAltName=${sans}`] : []),
  ].join('\n'));
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], dir);
  return { cert, key };
}

/** A self-signed P-256 certificate for signing ES256 JWTs (it goes in the registry's rootcertbundle). */
export async function makeSigningCert(dir: string): Promise<Pair> {
  const key = join(dir, 'token-signer.key');
  const cert = join(dir, 'token-signer.crt');
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=ts-docker test token issuer'], dir);
  return { cert, key };
}
