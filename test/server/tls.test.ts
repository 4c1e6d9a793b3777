// `ts-docker registry serve --tls-cert/--tls-key --htpasswd`: a certificate from a CA the test
// makes (test/auth/helpers/pki.ts). The CLI sees the registry as `builtin.ts-docker.test` (a private
// /etc/hosts, as in test/auth/tls.test.ts), so it verifies HTTPS as for any real host: refused
// without the CA, working with the CA in certs.d; skopeo verifies it with --cert-dir.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import { htpasswdEntry } from '../helpers/registry.js';
import { skopeo } from '../helpers/skopeo.js';
import { startTsRegistry } from '../helpers/ts-registry.js';
import type { TsRegistry } from '../helpers/ts-registry.js';
import { makeCa, signCert } from '../auth/helpers/pki.js';
import type { Ca } from '../auth/helpers/pki.js';
import type { TsdOptions } from '../auth/helpers/run.js';
import { leaked, transcript, tsd } from '../auth/helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const NAME = 'builtin.ts-docker.test';
let ca: Ca;
let caDir: string;
let reg: TsRegistry;
let host: string;
let root: string;

const withHosts = (config: string, extra: Partial<TsdOptions> = {}): TsdOptions => ({ config, root, hosts: { [NAME]: '127.0.0.1' }, ...extra });

beforeAll(async () => {
  const pki = await makeSandbox();
  ca = await makeCa(pki);
  const server = await signCert(pki, ca, 'builtin', 'server', `DNS:${NAME},IP:127.0.0.1`);
  caDir = join(pki, 'ca-only');
  await mkdir(caDir);
  await copyFile(ca.cert, join(caDir, 'ca.crt'));
  const htpasswd = join(pki, 'htpasswd');
  await writeFile(htpasswd, await htpasswdEntry('erin', PASSWORD));
  reg = await startTsRegistry({ extra: ['--tls-cert', server.cert, '--tls-key', server.key, '--htpasswd', htpasswd] });
  host = `${NAME}:${reg.port}`;
  root = await makeRoot();
});

afterAll(async () => reg.stop());

it('says it serves https with auth', () => {
  expect(reg.log()).toContain('(https, htpasswd auth, realm "ts-docker registry", storage');
});

it('without the CA: a certificate error naming certs.d, and no login saved', async () => {
  const config = await makeSandbox();
  const login = await tsd(['login', host, '-u', 'erin', '--password-stdin'], withHosts(config, { input: PASSWORD }));
  expectOneLineError(login, 'x509: certificate signed by unknown authority');
  expect(login.stderr).toContain(join(config, 'certs.d', host));
  expect(existsSync(join(config, 'credentials.json'))).toBe(false);
});

it('with the CA in <config>/certs.d/<host:port>/ca.crt: login, push and pull work', async () => {
  const config = await makeSandbox();
  await mkdir(join(config, 'certs.d', host), { recursive: true });
  await copyFile(ca.cert, join(config, 'certs.d', host, 'ca.crt'));
  const login = await tsd(['login', host, '-u', 'erin', '--password-stdin'], withHosts(config, { input: PASSWORD }));
  expect(login.code, login.stderr).toBe(0);
  expect(login.stdout).toBe('Login Succeeded\n');
  const image = `${host}/secure/app:1`;
  await importDir(root, 'builtin tls layer', image);
  const push = await tsd(['push', image], withHosts(config));
  expect(push.code, push.stderr).toBe(0);
  const back = await makeRoot();
  const pull = await tsd(['pull', image], withHosts(config, { root: back }));
  expect(pull.code, pull.stderr).toBe(0);
  expect(await manifestDigestFromStore(back, image)).toBe(await manifestDigestFromStore(root, image));
  expect(reg.log()).toMatch(/ erin "PUT \/v2\/secure\/app\/manifests\/1 HTTP\/1\.1" 201 /);
});

it('skopeo verifies the certificate with the CA (--cert-dir) and logs in with --creds', async () => {
  const ref = `docker://127.0.0.1:${reg.port}/secure/app:1`;
  const ok = await skopeo(['inspect', '--tls-verify=true', `--cert-dir=${caDir}`, `--creds=erin:${PASSWORD}`, ref]);
  expect(ok.code, ok.stderr).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ Digest: await manifestDigestFromStore(root, `${host}/secure/app:1`) });
  const unverified = await skopeo(['inspect', '--tls-verify=true', `--creds=erin:${PASSWORD}`, ref]);
  expect(unverified.code).not.toBe(0);
  expect(unverified.stderr).toContain('certificate signed by unknown authority');
  transcript.push(ok.stdout, ok.stderr, unverified.stdout, unverified.stderr);
});

it('never printed the password, nor did the server log it', () => {
  expect(leaked([PASSWORD])).toEqual([]);
  expect(reg.log()).not.toContain(PASSWORD);
});
