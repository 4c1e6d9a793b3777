// `ts-docker run -d ... registry` configured the ways docker's documentation of the registry image
// shows: `-e REGISTRY_AUTH=htpasswd ... -v DIR:/auth`, TLS with `-v DIR:/certs` and
// `REGISTRY_HTTP_ADDR=0.0.0.0:443 -p HOST:443`, and a config.yml bind-mounted over
// /etc/docker/registry/config.yml. Container paths resolve through the volumes; what cannot is refused.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import { freePort } from '../helpers/daemon.js';
import { htpasswdEntry } from '../helpers/registry.js';
import { tsRegistryBlobFile } from '../helpers/ts-registry.js';
import { makeCa, signCert } from '../auth/helpers/pki.js';
import type { Ca } from '../auth/helpers/pki.js';
import { leaked, tsd, tsdOk } from '../auth/helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const NAME = 'run.ts-docker.test';
let root: string;
let config: string;
let authDir: string;
let ca: Ca;
let certsDir: string;
const started: string[] = [];

beforeAll(async () => {
  root = await makeRoot();
  config = await makeSandbox();
  authDir = join(await makeSandbox(), 'auth');
  await mkdir(authDir);
  await writeFile(join(authDir, 'htpasswd'), await htpasswdEntry('testuser', PASSWORD));
  const pki = await makeSandbox();
  ca = await makeCa(pki);
  const server = await signCert(pki, ca, 'domain', 'server', `DNS:${NAME},IP:127.0.0.1`);
  certsDir = join(await makeSandbox(), 'certs');
  await mkdir(certsDir);
  await copyFile(server.cert, join(certsDir, 'domain.crt'));
  await copyFile(server.key, join(certsDir, 'domain.key'));
});

afterAll(async () => {
  // Stop every registry a test started, by its own id, even when the test failed half-way.
  for (const id of started) await tsd(['stop', id], { config, root });
});

/** `ts-docker run -d ARGS...`; returns the container ID. */
async function runDetached(args: string[]): Promise<string> {
  const r = await tsdOk(['run', '-d', ...args], { config, root });
  const id = r.stdout.trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  started.push(id);
  return id;
}

/** Logs in as testuser and pushes a fresh image to `host` (a private /etc/hosts when `hosts` is given). */
async function loginAndPush(host: string, repo: string, hosts?: Record<string, string>): Promise<string> {
  const login = await tsd(['login', host, '-u', 'testuser', '--password-stdin'], { config, input: PASSWORD, hosts });
  expect(login.code, login.stderr).toBe(0);
  const image = `${host}/${repo}:1`;
  await importDir(root, `run layer ${repo}`, image);
  const push = await tsd(['push', image], { config, root, hosts });
  expect(push.code, push.stderr).toBe(0);
  return manifestDigestFromStore(root, image);
}

describe('run -d registry configured as the registry image is', () => {
  it('native basic auth: -v DIR:/auth -e REGISTRY_AUTH=htpasswd -e REGISTRY_AUTH_HTPASSWD_{REALM,PATH}', async () => {
    const port = await freePort();
    const data = join(await makeSandbox(), 'data');
    const id = await runDetached([
      '-p', `127.0.0.1:${port}:5000`, '--name', 'registry-auth', '-v', `${authDir}:/auth`, '-e', 'REGISTRY_AUTH=htpasswd',
      '-e', 'REGISTRY_AUTH_HTPASSWD_REALM=Registry Realm', '-e', 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd', '-v', `${data}:/var/lib/registry`, 'registry:2',
    ]);
    const host = `127.0.0.1:${port}`;
    const anonymous = await tsd(['pull', `${host}/nothing:1`], { config: await makeSandbox(), root: await makeRoot() });
    expectOneLineError(anonymous, `log in with: ts-docker login ${host}`);
    const digest = await loginAndPush(host, 'authed/app');
    expect(existsSync(tsRegistryBlobFile(data, digest))).toBe(true);
    const logs = await tsdOk(['logs', id], { config, root });
    expect(logs.stdout).toContain(`listening on ${host} (http, htpasswd auth, realm "Registry Realm", storage ${data})`);
    expect(logs.stdout).toMatch(/ testuser "PUT \/v2\/authed\/app\/manifests\/1 HTTP\/1\.1" 201 /);
    expect(logs.stdout).not.toContain(PASSWORD);
  });

  it('upload purging and the session cap from -e REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_* reach the detached registry', async () => {
    const port = await freePort();
    const id = await runDetached([
      '-p', `127.0.0.1:${port}:5000`, '-e', 'REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE=2h', '-e', 'REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_INTERVAL=30m',
      '-e', 'REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_DRYRUN=true', '-e', 'REGISTRY_TSDOCKER_MAXUPLOADSPERCLIENT=1', 'registry',
    ]);
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('upload purge:'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = (await tsdOk(['logs', id], { config, root })).stdout;
    }
    expect(logs).toContain('upload purge: would purge 0 (dry run) of 0 upload sessions older than 2h0m0s; next run in 30m0s');
    // The cap of 1: a second open session from this address is refused.
    const post = (): Promise<Response> => fetch(`http://127.0.0.1:${port}/v2/capped/blobs/uploads/`, { method: 'POST' });
    expect((await post()).status).toBe(202);
    const second = await post();
    expect(second.status).toBe(429);
  });

  it('TLS: -v DIR:/certs -e REGISTRY_HTTP_ADDR=0.0.0.0:443 -e REGISTRY_HTTP_TLS_{CERTIFICATE,KEY} -p HOST:443; verified with the CA in certs.d', async () => {
    const port = await freePort();
    await runDetached([
      '-v', `${certsDir}:/certs`, '-v', `${authDir}:/auth`, '-e', 'REGISTRY_HTTP_ADDR=0.0.0.0:443', '-e', 'REGISTRY_HTTP_TLS_CERTIFICATE=/certs/domain.crt',
      '-e', 'REGISTRY_HTTP_TLS_KEY=/certs/domain.key', '-e', 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd', '-p', `127.0.0.1:${port}:443`, 'registry',
    ]);
    const host = `${NAME}:${port}`;
    await mkdir(join(config, 'certs.d', host), { recursive: true });
    await copyFile(ca.cert, join(config, 'certs.d', host, 'ca.crt'));
    await loginAndPush(host, 'tls/app', { [NAME]: '127.0.0.1' });
    // The container port follows REGISTRY_HTTP_ADDR, as in docker.
    const wrongPort = await tsd(['run', '-d', '-e', 'REGISTRY_HTTP_ADDR=:443', '-p', '5000:5000', 'registry'], { config, root });
    expectOneLineError(wrongPort, 'the registry listens on port 443 in its container: use -p HOST_PORT:443 (got 5000:5000)');
  });

  it('config.yml bind-mounted over /etc/docker/registry/config.yml; its paths are container paths too', async () => {
    const cfgDir = await makeSandbox();
    const file = join(cfgDir, 'config.yml');
    await writeFile(file, 'version: 0.1\nlog:\n  level: info\nhttp:\n  addr: :5000\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nauth:\n  htpasswd:\n    realm: basic-realm\n    path: /auth/htpasswd\n');
    const port = await freePort();
    const r = await tsd(['run', '-d', '-p', `127.0.0.1:${port}:5000`, '-v', `${file}:/etc/docker/registry/config.yml`, '-v', `${authDir}:/auth`, 'registry'], { config, root });
    expect(r.code, r.stderr).toBe(0);
    started.push(r.stdout.trim());
    expect(r.stderr).toBe(`warning: ignoring settings the built-in registry does not support: log (${file})\n`);
    await loginAndPush(`127.0.0.1:${port}`, 'configured/app');
    expect((await tsdOk(['logs', r.stdout.trim()], { config, root })).stdout).toContain('realm "basic-realm"');
  });
});

describe('what run refuses, in one line, starting nothing', () => {
  it.each([
    [['-e', 'REGISTRY_AUTH=htpasswd', '-e', 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd'], 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd is not in a volume: add -v HOST_DIR:/auth'],
    [['-v', '/tmp:/certs', '-e', 'REGISTRY_HTTP_TLS_CERTIFICATE=/elsewhere/domain.crt', '-e', 'REGISTRY_HTTP_TLS_KEY=/certs/domain.key'], 'REGISTRY_HTTP_TLS_CERTIFICATE=/elsewhere/domain.crt is not in a volume: add -v HOST_DIR:/elsewhere'],
    [['-e', 'REGISTRY_AUTH=token'], "REGISTRY_AUTH=token is not supported: ts-docker's registry has htpasswd (Basic) auth only"],
    [['-e', 'REGISTRY_STORAGE=s3'], "REGISTRY_STORAGE=s3 is not supported: ts-docker's registry stores on the local filesystem only"],
    [['-e', 'REGISTRY_AUTH=htpasswd'], 'htpasswd auth is asked for but no file is named'],
    [['-v', 'no-container-path'], 'invalid volume no-container-path: expected -v HOST_DIR:/ABSOLUTE/CONTAINER/PATH[:ro|:rw]'],
    [['-e', '1BAD=x'], 'invalid environment variable 1BAD=x: expected NAME=VALUE'],
  ])('run -d %j registry', async (args, message) => {
    const r = await tsd(['run', '-d', ...args, 'registry'], { config, root: await makeRoot() });
    expectOneLineError(r, message);
    expect(r.stdout).toBe('');
  });

  it('a missing htpasswd file inside a volume: the registry does not start and says why', async () => {
    const fresh = await makeRoot();
    const r = await tsd(['run', '-d', '-v', `${await makeSandbox()}:/auth`, '-e', 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd', 'registry'], { config, root: fresh });
    expectOneLineError(r, 'the registry did not start: htpasswd file ');
    expect(r.stderr).toContain('/htpasswd: no such file (create it with htpasswd -cB FILE USER)');
    expect((await tsd(['ps', '-a', '-q'], { config, root: fresh })).stdout).toBe('');
  });
});

it('never printed the password', () => {
  expect(leaked([PASSWORD])).toEqual([]);
});
