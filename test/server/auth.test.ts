// `ts-docker registry serve --htpasswd FILE`: the checks test/auth/htpasswd.test.ts makes against
// docker-registry (login, a wrong password, push and pull with stored credentials, logout), skopeo
// with --creds, the 401 answers side by side with docker-registry's, the file re-read while the
// server runs, clear startup errors, and the password in no output and no server log.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_REF, expectOneLineError, importDir, loadFixture, makeRoot, makeSandbox, manifestDigestFromStore, namesInStore, runCli } from '../helpers/cli.js';
import { htpasswdEntry, startRegistry, stopAllRegistries } from '../helpers/registry.js';
import type { Registry } from '../helpers/registry.js';
import { skopeo } from '../helpers/skopeo.js';
import { startTsRegistry } from '../helpers/ts-registry.js';
import type { TsRegistry } from '../helpers/ts-registry.js';
import { leaked, transcript, tsd, tsdOk } from '../auth/helpers/run.js';
import { call } from './http.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
const LATE_PASSWORD = `late-${randomBytes(8).toString('hex')}`;
/** docker-registry's realm in test/helpers/registry.ts; the built-in one gets the same, to compare answers. */
const REALM = 'ts-docker-test';
let htpasswdFile: string;
let reg: TsRegistry;
let root: string;
let config: string;
let image: string;

beforeAll(async () => {
  htpasswdFile = join(await makeSandbox(), 'htpasswd');
  await writeFile(htpasswdFile, `# team registry\n${await htpasswdEntry('alice', PASSWORD)}${await htpasswdEntry('bob', 'bobs-other-password')}`);
  reg = await startTsRegistry({ extra: ['--htpasswd', htpasswdFile, '--realm', REALM] });
  root = await makeRoot();
  config = await makeSandbox();
  image = `${reg.host}/team/app:1`;
  await importDir(root, 'builtin basic auth layer', image);
});

afterAll(async () => {
  await reg.stop();
  await stopAllRegistries();
});

describe('ts-docker against registry serve --htpasswd', () => {
  it('says it has auth on, and the /v2/ ping without credentials is refused', async () => {
    expect(reg.log()).toContain(`(http, htpasswd auth, realm "${REALM}", storage`);
    const ping = await call(reg.url, 'GET', '/v2/');
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toBe(`Basic realm="${REALM}"`);
  });

  it('login verifies and stores the credentials mode 0600', async () => {
    const r = await tsd(['login', reg.host, '-u', 'alice', '--password-stdin'], { config, input: `${PASSWORD}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Login Succeeded\n');
    const file = join(config, 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(doc.auths[reg.host]?.auth).toBe(BASIC);
  });

  it("a wrong password or an unknown user: docker's unauthorized message on one line, nothing saved", async () => {
    const fresh = await makeSandbox();
    for (const user of ['alice', 'mallory']) {
      const r = await tsd(['login', reg.host, '-u', user, '--password-stdin'], { config: fresh, input: 'not-the-password\n' });
      expectOneLineError(r, 'unauthorized: incorrect username or password');
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(fresh, 'credentials.json'))).toBe(false);
  });

  it('push and pull use the stored credentials; the log names the user, never the password', async () => {
    const push = await tsd(['--debug', 'push', image], { config, root });
    expect(push.code, push.stderr).toBe(0);
    const other = await makeRoot();
    const pull = await tsd(['pull', image], { config, root: other, env: { TS_DOCKER_DEBUG: '1' } });
    expect(pull.code, pull.stderr).toBe(0);
    expect(await namesInStore(other)).toEqual([image]);
    expect(await manifestDigestFromStore(other, image)).toBe(await manifestDigestFromStore(root, image));
    expect(reg.log()).toMatch(/^127\.0\.0\.1 alice "PUT \/v2\/team\/app\/manifests\/1 HTTP\/1\.1" 201 /m);
  });

  it('logout removes them; a push is then denied with a clear one-line message', async () => {
    expect((await tsdOk(['logout', reg.host], { config })).stdout).toBe(`Removing login credentials for ${reg.host}\n`);
    const push = await tsd(['push', image], { config, root });
    expectOneLineError(push, `unauthorized: authentication required; log in with: ts-docker login ${reg.host}`);
    const pull = await tsd(['pull', image], { config, root: await makeRoot() });
    expectOneLineError(pull, `log in with: ts-docker login ${reg.host}`);
  });

  it('skopeo pushes and pulls with --creds, and is refused without', async () => {
    const store = await makeRoot();
    await loadFixture(store);
    const dest = `docker://${reg.host}/skopeo/app:1`;
    const push = await skopeo(['copy', `--dest-creds=alice:${PASSWORD}`, `oci:${store}:${FIXTURE_REF}`, dest]);
    expect(push.code, push.stderr).toBe(0);
    const back = join(await makeSandbox(), 'layout');
    const pull = await skopeo(['copy', '--src-creds=bob:bobs-other-password', dest, `oci:${back}:app`]);
    expect(pull.code, pull.stderr).toBe(0);
    const denied = await skopeo(['inspect', dest]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/authentication required|unauthorized/i);
    transcript.push(push.stdout, push.stderr, pull.stdout, pull.stderr, denied.stdout, denied.stderr);
  });

  it('a user added to the file while the server runs can log in at once (the file is re-read)', async () => {
    const fresh = await makeSandbox();
    const before = await tsd(['login', reg.host, '-u', 'carol', '--password-stdin'], { config: fresh, input: LATE_PASSWORD });
    expectOneLineError(before, 'unauthorized: incorrect username or password');
    await appendFile(htpasswdFile, await htpasswdEntry('carol', LATE_PASSWORD));
    const after = await tsd(['login', reg.host, '-u', 'carol', '--password-stdin'], { config: fresh, input: LATE_PASSWORD });
    expect(after.code, after.stderr).toBe(0);
    expect(reg.log()).toContain(`htpasswd file ${htpasswdFile} changed: re-read (3 users)`);
  });
});

describe('the 401 answers, side by side with docker-registry', () => {
  let real: Registry;
  beforeAll(async () => {
    real = await startRegistry({ backend: 'docker-registry', htpasswd: { alice: PASSWORD } });
  });

  const requests: Array<[string, string, string | undefined]> = [
    ['GET', '/v2/', undefined],
    ['GET', '/v2/', `Basic ${Buffer.from('alice:wrong').toString('base64')}`],
    ['GET', '/v2/', `Basic ${Buffer.from('nobody:x').toString('base64')}`],
    ['GET', '/v2/', 'Bearer some-token'],
    ['GET', '/v2/_catalog', undefined],
    ['HEAD', '/v2/team/app/manifests/1', undefined],
    ['PUT', '/v2/team/app/manifests/1', undefined],
    ['POST', `/v2/team/app/blobs/uploads/?mount=sha256:${'0'.repeat(64)}&from=other/repo`, undefined],
    ['DELETE', `/v2/team/app/blobs/sha256:${'0'.repeat(64)}`, undefined],
  ];
  it.each(requests)('%s %s (Authorization: %s): the same status, challenge and body', async (method, path, authorization) => {
    const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
    const [ours, theirs] = await Promise.all([call(reg.url, method, path, { headers }), call(real.url, method, path, { headers })]);
    expect(theirs.status).toBe(401);
    expect(ours.status).toBe(401);
    expect(ours.headers.get('www-authenticate')).toBe(theirs.headers.get('www-authenticate'));
    expect(ours.headers.get('content-type')).toBe(theirs.headers.get('content-type'));
    if (method !== 'HEAD') expect(ours.json()).toEqual(theirs.json());
  });

  it('with the right password both answer the ping', async () => {
    const headers = { Authorization: `Basic ${BASIC}` };
    expect((await call(reg.url, 'GET', '/v2/', { headers })).status).toBe(200);
    expect((await call(real.url, 'GET', '/v2/', { headers })).status).toBe(200);
  });
});

describe('startup errors (one line, exit 1, before listening)', () => {
  const serve = async (htpasswd: string): Promise<Awaited<ReturnType<typeof runCli>>> =>
    runCli(['registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(await makeSandbox(), 'data'), '--htpasswd', htpasswd]);

  it('a missing htpasswd file (docker-registry would invent a user; we refuse)', async () => {
    const missing = join(await makeSandbox(), 'htpasswd');
    expectOneLineError(await serve(missing), `htpasswd file ${missing}: no such file (create it with htpasswd -cB FILE USER)`);
    expect(existsSync(missing)).toBe(false);
  });

  it('entries that are not bcrypt are named with their line', async () => {
    const file = join(await makeSandbox(), 'htpasswd');
    const md5 = '$apr1$MSFzDNse$gKbmkbo34Iu0dnSNdi27I/';
    await writeFile(file, `${await htpasswdEntry('alice', PASSWORD)}\ncarol:${md5}\n`);
    const r = await serve(file);
    expectOneLineError(r, `htpasswd file ${file} line 3: user "carol" has an MD5 ($apr1$, htpasswd -m) hash; only bcrypt is supported (write it with htpasswd -B)`);
    expect(r.stderr).not.toContain(md5);
    await writeFile(file, 'dave:plaintext-password\n');
    const plain = await serve(file);
    expectOneLineError(plain, `htpasswd file ${file} line 1: user "dave" has a plain-text or unknown hash`);
    expect(plain.stderr).not.toContain('plaintext-password');
  });

  it('--realm without --htpasswd', async () => {
    const r = await runCli(['registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(await makeSandbox(), 'data'), '--realm', 'x']);
    expectOneLineError(r, 'a realm needs an htpasswd file');
  });
});

it('never printed the password: not in any CLI or skopeo output, nor in the server log', () => {
  expect(leaked([PASSWORD, BASIC, 'bobs-other-password', LATE_PASSWORD])).toEqual([]);
  for (const secret of [PASSWORD, BASIC, 'bobs-other-password', LATE_PASSWORD]) expect(reg.log()).not.toContain(secret);
});
