/**
 * Token services as private registries run them (GitLab, Harbor): served over HTTPS on another
 * host, with a certificate from the same private CA as the registry, and handing out tokens to
 * logged-in users only. docker reaches the token service with the registry's TLS settings, so the
 * CA in the registry's certs.d folder is all a user sets up; an anonymous pull is told to log in,
 * not that a password (which was never given) is wrong; a revoked identity token says so.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import type { Ca } from './helpers/pki.js';
import { makeCa, makeSigningCert, signCert } from './helpers/pki.js';
import type { TsdOptions } from './helpers/run.js';
import { leaked, tsd } from './helpers/run.js';
import type { TokenIssuer } from './helpers/token-issuer.js';
import { startTokenIssuer } from './helpers/token-issuer.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const HOSTS = { 'registry.ts-docker.test': '127.0.0.1', 'auth.ts-docker.test': '127.0.0.1' };
let ca: Ca;
let issuer: TokenIssuer;
let reg: Registry;
let host: string;
let root: string;

const withHosts = (config: string, extra: Partial<TsdOptions> = {}): TsdOptions => ({ config, root, hosts: HOSTS, ...extra });

/** A config dir whose certs.d has the CA for the REGISTRY only (nothing for the token service's host). */
async function configTrustingRegistry(): Promise<string> {
  const config = await makeSandbox();
  const dir = join(config, 'certs.d', host);
  await mkdir(dir, { recursive: true });
  await copyFile(ca.cert, join(dir, 'ca.crt'));
  return config;
}

beforeAll(async () => {
  const pki = await makeSandbox();
  ca = await makeCa(pki);
  const server = await signCert(pki, ca, 'registry', 'server', 'DNS:registry.ts-docker.test');
  const auth = await signCert(pki, ca, 'auth', 'server', 'DNS:auth.ts-docker.test');
  const signer = await makeSigningCert(pki);
  issuer = await startTokenIssuer(signer, {
    service: 'svc', issuer: 'iss', users: { alice: PASSWORD }, refreshTokens: true, refuseAnonymous: true,
    tls: { ...auth, tlsName: 'auth.ts-docker.test' },
  });
  reg = await startRegistry({ tls: server, token: { realm: issuer.realm, service: 'svc', issuer: 'iss', rootCertBundle: signer.cert } });
  host = `registry.ts-docker.test:${reg.port}`;
  root = await makeRoot();
});

afterAll(async () => {
  await stopAllRegistries();
  await issuer.stop();
});

it('an HTTPS token service signed by the registry\'s private CA works with the CA in the registry\'s certs.d only', async () => {
  const config = await configTrustingRegistry();
  const login = await tsd(['login', host, '-u', 'alice', '--password-stdin'], withHosts(config, { input: PASSWORD }));
  expect(login.code, login.stderr).toBe(0);
  expect(login.stdout).toBe('Login Succeeded\n');
  const name = `${host}/team/app:1`;
  await importDir(root, 'token service over tls', name);
  const push = await tsd(['push', name], withHosts(config));
  expect(push.code, push.stderr).toBe(0);
  const back = await makeRoot();
  const pull = await tsd(['pull', name], withHosts(config, { root: back }));
  expect(pull.code, pull.stderr).toBe(0);
  expect(await manifestDigestFromStore(back, name)).toBe(await manifestDigestFromStore(root, name));
  expect(issuer.issued.some((t) => t.account === 'alice' && t.access.some((a) => a.actions.includes('push')))).toBe(true);
});

it('a token service that refuses anonymous clients: the pull is told to log in, not that a password is wrong', async () => {
  const config = await configTrustingRegistry();
  const pull = await tsd(['pull', `${host}/team/app:1`], withHosts(config, { root: await makeRoot() }));
  expectOneLineError(pull, `unauthorized: authentication required; log in with: ts-docker login ${host}`);
  expect(pull.stderr).not.toContain('incorrect username or password');
});

it('a stored identity token the token service no longer accepts: says so and how to log in again', async () => {
  const config = await configTrustingRegistry();
  await writeFile(join(config, 'credentials.json'), JSON.stringify({
    auths: { [host]: { auth: Buffer.from('alice:').toString('base64'), identitytoken: 'refresh-revoked' } },
  }));
  const pull = await tsd(['pull', `${host}/team/app:1`], withHosts(config, { root: await makeRoot() }));
  expectOneLineError(pull, `unauthorized: the token service of ${host} refused the stored identity token (expired or revoked): log in again with: ts-docker login ${host}`);
  // The login command then asks again, as docker does (here without a terminal: docker's error).
  const login = await tsd(['login', host], withHosts(config));
  expect(login.stdout).toBe('Authenticating with existing credentials...\n');
  expect(login.stderr).toContain('Stored credentials invalid or expired\n');
  expect(login.stderr).toContain('Error: Cannot perform an interactive login from a non TTY device\n');
  expect(login.code).toBe(1);
  expect(await readFile(join(config, 'credentials.json'), 'utf8')).toContain('refresh-revoked');
});

it('never printed the password or a refresh token', () => {
  expect(leaked([PASSWORD, Buffer.from(`alice:${PASSWORD}`).toString('base64'), ...issuer.refreshTokens.keys()])).toEqual([]);
});
