/**
 * TLS registries: docker-registry serving a certificate from a CA the test makes. The CLI runs
 * with a private /etc/hosts that names the loopback registries `*.ts-docker.test`, so they are
 * secure registries to it (verified HTTPS), as a real host name would be. Without the CA: a
 * certificate error naming certs.d; with the CA in certs.d: login, push and pull work; mutual
 * TLS with a client certificate; a plain-HTTP registry addressed as HTTPS; and a TLS registry on
 * 127.0.0.1 (insecure by default, as in docker) reached over HTTPS without verification.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import type { Ca, Pair } from './helpers/pki.js';
import { makeCa, makeSigningCert, signCert } from './helpers/pki.js';
import type { TsdOptions } from './helpers/run.js';
import { leaked, tsd, tsdOk } from './helpers/run.js';
import type { TokenIssuer } from './helpers/token-issuer.js';
import { startTokenIssuer } from './helpers/token-issuer.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const HOSTS = {
  'registry.ts-docker.test': '127.0.0.1', 'mtls.ts-docker.test': '127.0.0.1', 'plain.ts-docker.test': '127.0.0.1', 'token.ts-docker.test': '127.0.0.1',
};
let ca: Ca;
let server: Pair;
let client: Pair;
let tlsReg: Registry;
let mtlsReg: Registry;
let plainReg: Registry;
let tokenReg: Registry;
let issuer: TokenIssuer;
let root: string;

/** Options for a CLI run that sees the test host names. */
const withHosts = (config: string, extra: Partial<TsdOptions> = {}): TsdOptions => ({ config, root, hosts: HOSTS, ...extra });

async function trustCa(config: string, host: string): Promise<string> {
  const dir = join(config, 'certs.d', host);
  await mkdir(dir, { recursive: true });
  await copyFile(ca.cert, join(dir, 'ca.crt'));
  return dir;
}

beforeAll(async () => {
  const pki = await makeSandbox();
  ca = await makeCa(pki);
  server = await signCert(pki, ca, 'registry', 'server', 'DNS:registry.ts-docker.test,DNS:mtls.ts-docker.test,DNS:token.ts-docker.test,DNS:localhost,IP:127.0.0.1');
  client = await signCert(pki, ca, 'client', 'client');
  tlsReg = await startRegistry({ htpasswd: { erin: PASSWORD }, tls: server });
  mtlsReg = await startRegistry({ tls: { ...server, clientCas: [ca.cert] } });
  plainReg = await startRegistry();
  // An HTTPS registry whose token service is plain HTTP (its realm is http://127.0.0.1:PORT/token).
  const signer = await makeSigningCert(pki);
  issuer = await startTokenIssuer(signer, { service: 'svc', issuer: 'iss', users: { erin: PASSWORD } });
  tokenReg = await startRegistry({ tls: server, token: { realm: issuer.realm, service: 'svc', issuer: 'iss', rootCertBundle: signer.cert } });
  root = await makeRoot();
});

afterAll(async () => {
  await stopAllRegistries();
  await issuer.stop();
});

it('without the CA: a certificate error that names the certs.d folder, and no login saved', async () => {
  const config = await makeSandbox();
  const host = `registry.ts-docker.test:${tlsReg.port}`;
  const login = await tsd(['login', host, '-u', 'erin', '--password-stdin'], withHosts(config, { input: PASSWORD }));
  expectOneLineError(login, 'x509: certificate signed by unknown authority');
  expect(login.stderr).toContain(join(config, 'certs.d', host));
  expect(login.stderr).toContain('/etc/docker/certs.d/');
  expect(existsSync(join(config, 'credentials.json'))).toBe(false);
  await importDir(root, 'tls layer', `${host}/secure/app:1`);
  const push = await tsd(['push', `${host}/secure/app:1`], withHosts(config));
  expectOneLineError(push, `put the CA certificate as ca.crt in ${join(config, 'certs.d', host)}`);
});

it('with the CA in <config>/certs.d/<host:port>/: login, push and pull work', async () => {
  const config = await makeSandbox();
  const host = `registry.ts-docker.test:${tlsReg.port}`;
  await trustCa(config, host);
  const login = await tsd(['login', host, '-u', 'erin', '--password-stdin'], withHosts(config, { input: PASSWORD }));
  expect(login.code, login.stderr).toBe(0);
  expect(login.stdout).toBe('Login Succeeded\n');
  await importDir(root, 'tls layer', `${host}/secure/app:1`);
  const push = await tsd(['push', `${host}/secure/app:1`], withHosts(config));
  expect(push.code, push.stderr).toBe(0);
  const back = await makeRoot();
  const pull = await tsd(['pull', `${host}/secure/app:1`], withHosts(config, { root: back }));
  expect(pull.code, pull.stderr).toBe(0);
  expect(await manifestDigestFromStore(back, `${host}/secure/app:1`)).toBe(await manifestDigestFromStore(root, `${host}/secure/app:1`));
});

it('mutual TLS: refused without a client certificate, works with client.cert + client.key in certs.d', async () => {
  const config = await makeSandbox();
  const host = `mtls.ts-docker.test:${mtlsReg.port}`;
  const dir = await trustCa(config, host);
  const name = `${host}/mutual/app:1`;
  await importDir(root, 'mtls layer', name);
  const refused = await tsd(['push', name], withHosts(config));
  expectOneLineError(refused, `tls: ${host} requires a client certificate (mutual TLS): put client.cert and client.key in ${dir}`);
  expect(mtlsReg.log()).toContain("client didn't provide a certificate");
  await copyFile(client.cert, join(dir, 'client.cert'));
  await copyFile(client.key, join(dir, 'client.key'));
  const push = await tsd(['push', name], withHosts(config));
  expect(push.code, push.stderr).toBe(0);
  const pull = await tsd(['pull', name], withHosts(config, { root: await makeRoot() }));
  expect(pull.code, pull.stderr).toBe(0);
});

it('a client key without its certificate is named', async () => {
  const config = await makeSandbox();
  const host = `mtls.ts-docker.test:${mtlsReg.port}`;
  const dir = await trustCa(config, host);
  await copyFile(client.key, join(dir, 'client.key'));
  expectOneLineError(await tsd(['pull', `${host}/mutual/app:1`], withHosts(config)), `missing client certificate client.cert for key ${join(dir, 'client.key')}`);
});

it('a plain-HTTP registry addressed as HTTPS: explained with the fix, which works', async () => {
  const config = await makeSandbox();
  const host = `plain.ts-docker.test:${plainReg.port}`;
  const name = `${host}/plain/app:1`;
  await importDir(root, 'plain layer', name);
  const push = await tsd(['push', name], withHosts(config));
  expectOneLineError(push, 'http: server gave HTTP response to HTTPS client');
  expect(push.stderr).toContain(`--insecure-registry ${host}`);
  expect(push.stderr).toContain(`"insecureRegistries": ["${host}"]`);
  const ok = await tsd(['push', '--insecure-registry', host, name], withHosts(config));
  expect(ok.code, ok.stderr).toBe(0);
  await writeFile(join(config, 'config.json'), JSON.stringify({ insecureRegistries: [host] }));
  const pull = await tsd(['pull', name], withHosts(config, { root: await makeRoot() }));
  expect(pull.code, pull.stderr).toBe(0);
});

it('a TLS registry on 127.0.0.1 (insecure by default, as in docker) is reached over HTTPS without verification', async () => {
  const config = await makeSandbox();
  const login = await tsd(['login', tlsReg.host, '-u', 'erin', '--password-stdin'], { config, input: PASSWORD });
  expect(login.code, login.stderr).toBe(0);
  const name = `${tlsReg.host}/loop/app:1`;
  await importDir(root, 'loopback tls layer', name);
  await tsdOk(['push', name], { config, root });
  const pull = await tsd(['pull', name], { config, root: await makeRoot() });
  expect(pull.code, pull.stderr).toBe(0);
});

it('credentials are never sent over plain HTTP for a secure registry: an http:// token realm is refused', async () => {
  const config = await makeSandbox();
  const host = `token.ts-docker.test:${tokenReg.port}`;
  await trustCa(config, host);
  const login = await tsd(['login', host, '-u', 'erin', '--password-stdin'], withHosts(config, { input: PASSWORD }));
  expectOneLineError(login, `refusing to send credentials for ${host} to its token service over plain HTTP (${issuer.realm})`);
  expect(issuer.requests.filter((r) => r.authorized)).toEqual([]);
  // Anonymous tokens carry no secret: an anonymous pull may still use that realm.
  const pull = await tsd(['pull', `${host}/none/here:1`], withHosts(config));
  expect(pull.stderr).toContain('manifest unknown');
  expect(issuer.requests.length).toBeGreaterThan(0);
  expect(issuer.requests.filter((r) => r.authorized)).toEqual([]);
});

it('never printed the password', () => {
  expect(leaked([PASSWORD, Buffer.from(`erin:${PASSWORD}`).toString('base64')])).toEqual([]);
});
