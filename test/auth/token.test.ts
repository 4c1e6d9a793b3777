/**
 * docker-registry in token mode with a token issuer written in the tests (ES256 JWTs with x5c):
 * anonymous pull allowed and push denied by scope, login and push with credentials, identity
 * (refresh) tokens as docker stores them, and tokens that really expire after 2 seconds in the
 * middle of a push, which completes.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import { bigImage } from './helpers/image.js';
import { makeSigningCert } from './helpers/pki.js';
import type { Proxy } from './helpers/proxy.js';
import { startProxy } from './helpers/proxy.js';
import type { TokenIssuer } from './helpers/token-issuer.js';
import { startTokenIssuer } from './helpers/token-issuer.js';
import { leaked, tsd, tsdOk } from './helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const SERVICE = 'ts-docker-test-registry';
const ISSUER = 'ts-docker-test-issuer';
let issuer: TokenIssuer;
let reg: Registry;
let root: string;
let config: string;

/** A registry trusting `signer`, with its own issuer. */
async function tokenRegistry(opts: Parameters<typeof startTokenIssuer>[1]): Promise<{ issuer: TokenIssuer; reg: Registry }> {
  const dir = await makeSandbox();
  const signer = await makeSigningCert(dir);
  const iss = await startTokenIssuer(signer, opts);
  const r = await startRegistry({ token: { realm: iss.realm, service: SERVICE, issuer: ISSUER, rootCertBundle: signer.cert } });
  return { issuer: iss, reg: r };
}

beforeAll(async () => {
  ({ issuer, reg } = await tokenRegistry({ service: SERVICE, issuer: ISSUER, users: { alice: PASSWORD }, refreshTokens: true }));
  root = await makeRoot();
  config = await makeSandbox();
  await importDir(root, 'token layer', `${reg.host}/team/app:1`);
  await importDir(root, 'anonymous layer', `${reg.host}/team/app:anon`);
});

afterAll(async () => {
  await stopAllRegistries();
  await issuer.stop();
});

it('a wrong password is refused by the token service: docker\'s message, nothing saved', async () => {
  const r = await tsd(['login', reg.host, '-u', 'alice', '--password-stdin'], { config, input: 'wrong' });
  expectOneLineError(r, 'unauthorized: incorrect username or password');
  expect(existsSync(join(config, 'credentials.json'))).toBe(false);
});

it('login stores the identity token the token service hands out (not the password), as docker does', async () => {
  const r = await tsd(['login', reg.host, '-u', 'alice', '--password-stdin'], { config, input: `${PASSWORD}\n` });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('Login Succeeded\n');
  const doc = JSON.parse(await readFile(join(config, 'credentials.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string; auth?: string }> };
  const entry = doc.auths[reg.host]!;
  expect(issuer.refreshTokens.has(entry.identitytoken ?? '')).toBe(true);
  expect(JSON.stringify(doc)).not.toContain(PASSWORD);
  expect(Buffer.from(entry.auth ?? '', 'base64').toString()).toBe('alice:');
});

it('push with credentials: the identity token is exchanged (OAuth2 POST) for push tokens', async () => {
  const before = issuer.issued.length;
  const r = await tsd(['push', `${reg.host}/team/app:1`], { config, root });
  expect(r.code, r.stderr).toBe(0);
  const mine = issuer.issued.slice(before);
  expect(mine.some((t) => t.grant === 'refresh_token' && t.account === 'alice'
    && t.access.some((a) => a.name === 'team/app' && a.actions.includes('push')))).toBe(true);
  // As docker: the /v2/ ping only learns the challenge; the one token is for the repository.
  expect(mine.map((t) => t.scopes)).toEqual([['repository:team/app:pull,push']]);
});

it('a cross-repository mount asks for pull on the source repository too, and gets the blob mounted', async () => {
  await tsdOk(['tag', `${reg.host}/team/app:1`, `${reg.host}/team/copy:1`], { config, root });
  const before = issuer.issued.length;
  const r = await tsd(['push', `${reg.host}/team/copy:1`], { config, root });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('Mounted from team/app');
  const mount = issuer.issued.slice(before).find((t) => t.scopes.includes('repository:team/app:pull') && t.scopes.includes('repository:team/copy:pull,push'));
  expect(mount?.access).toEqual([
    { type: 'repository', name: 'team/copy', actions: ['pull', 'push'] },
    { type: 'repository', name: 'team/app', actions: ['pull'] },
  ]);
});

it('anonymous: pull is allowed, push is denied by scope', async () => {
  const anon = await makeSandbox();
  const other = await makeRoot();
  const pull = await tsd(['pull', `${reg.host}/team/app:1`], { config: anon, root: other });
  expect(pull.code, pull.stderr).toBe(0);
  expect(await manifestDigestFromStore(other, `${reg.host}/team/app:1`)).toBe(await manifestDigestFromStore(root, `${reg.host}/team/app:1`));
  const before = issuer.issued.length;
  const push = await tsd(['push', `${reg.host}/team/app:anon`], { config: anon, root });
  expectOneLineError(push, `unauthorized: authentication required; log in with: ts-docker login ${reg.host}`);
  // The issuer gave the anonymous client pull only, though push was asked for.
  const asked = issuer.issued.slice(before).filter((t) => t.scopes.includes('repository:team/app:pull,push'));
  expect(asked.length).toBeGreaterThan(0);
  expect(asked.every((t) => t.account === undefined && t.access.every((a) => !a.actions.includes('push')))).toBe(true);
});

it('docker\'s config.json: username/password (token fetched with Basic) and identitytoken both work', async () => {
  const dockerConfig = await makeSandbox();
  const basic = Buffer.from(`alice:${PASSWORD}`).toString('base64');
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: basic } } }));
  const before = issuer.issued.length;
  const r = await tsd(['push', `${reg.host}/team/app:anon`], { config: await makeSandbox(), root, dockerConfig });
  expect(r.code, r.stderr).toBe(0);
  expect(issuer.issued.slice(before).some((t) => t.grant === 'basic' && t.account === 'alice')).toBe(true);

  const token = [...issuer.refreshTokens.keys()][0]!;
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:').toString('base64'), identitytoken: token } } }));
  const again = await tsd(['push', `${reg.host}/team/app:1`], { config: await makeSandbox(), root, dockerConfig });
  expect(again.code, again.stderr).toBe(0);
});

it('tokens that expire after 2 seconds in the middle of a push: a new one is fetched and the push completes', async () => {
  const short = await tokenRegistry({ service: SERVICE, issuer: ISSUER, users: { alice: PASSWORD }, ttl: 2, expireForReal: true });
  let held = false;
  // A slow link: the first chunk is held until the token it carries has really expired.
  const proxy: Proxy = await startProxy(short.reg.port, async (req) => {
    const auth = req.headers.authorization ?? '';
    if (held || req.method !== 'PATCH' || !auth.startsWith('Bearer ')) return undefined;
    held = true;
    const claims = JSON.parse(Buffer.from(auth.slice(7).split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    // The registry's 60 s leeway is built into exp (iat + 2 - 60): wait until exp + 60 is past.
    while (Date.now() / 1000 < claims.exp + 61) await new Promise((r) => setTimeout(r, 100));
    return undefined;
  });
  try {
    const cfg = await makeSandbox();
    const name = `${proxy.host}/slow/app:1`;
    const store = await makeRoot();
    await bigImage(store, name, 1_200_000);
    await tsdOk(['login', proxy.host, '-u', 'alice', '--password-stdin'], { config: cfg, input: PASSWORD });
    const push = await tsd(['push', '--chunk-size', '256k', name], { config: cfg, root: store });
    expect(push.code, push.stderr).toBe(0);
    expect(held).toBe(true);
    // The registry refused the expired token mid-upload, and the client carried on with a new one.
    const refused = proxy.log.filter((e) => e.status === 401 && /invalid_token/.test(e.wwwAuthenticate ?? ''));
    expect(refused.map((e) => e.method)).toContain('PATCH');
    const pushTokens = short.issuer.issued.filter((t) => t.account === 'alice' && t.access.some((a) => a.actions.includes('push')));
    expect(pushTokens.length).toBeGreaterThan(1);
    expect(proxy.log.filter((e) => e.method === 'PATCH' && e.status === 202).length).toBeGreaterThanOrEqual(4);
    // What arrived is the image: pull it back into a fresh store and compare the digest.
    const back = await makeRoot();
    const pull = await tsd(['pull', name], { config: cfg, root: back });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await manifestDigestFromStore(back, name)).toBe(await manifestDigestFromStore(store, name));
  } finally {
    await proxy.stop();
    await short.issuer.stop();
  }
});

it('never printed the password', () => {
  expect(leaked([PASSWORD, Buffer.from(`alice:${PASSWORD}`).toString('base64')])).toEqual([]);
});
