// `ts-docker registry serve CONFIG`: docker-registry's own config.yml (the same file docker-registry
// itself is shown to accept here), its REGISTRY_* environment overrides, flags over both, one
// warning line for what is ignored, and one clear error line for what would be unsafe to ignore.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, SCRUBBED_ENV, expectOneLineError, importDir, makeRoot, makeSandbox, manifestDigestFromStore, requireBuilt, requireTool, runCli } from '../helpers/cli.js';
import type { Daemon } from '../helpers/daemon.js';
import { hasExited, startDaemon, waitUntil } from '../helpers/daemon.js';
import { htpasswdEntry } from '../helpers/registry.js';
import { tsRegistryBlobFile } from '../helpers/ts-registry.js';
import { leaked, tsd } from '../auth/helpers/run.js';
import { call } from './http.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const BASIC = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
let dir: string;
let htpasswd: string;
let storage: string;
let configFile: string;

/** The registry image's default config.yml with storage, address and htpasswd auth of this test. */
const configYml = (over: { storage: string; htpasswd: string; realm?: string }): string => `version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: ${over.storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  secret: ${randomBytes(8).toString('hex')}
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: ${over.realm ?? 'Config Realm'}
    path: ${over.htpasswd}
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
`;

/** A long-running server started with `args`, once it has said where it listens. */
interface Started {
  d: Daemon;
  port: number;
  out: () => string;
}

const running: Daemon[] = [];

/** Starts `cmd args` (REGISTRY_* variables only from `env`) and reads back `listening on 127.0.0.1:PORT`. */
async function start(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Started> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_') && !SCRUBBED_ENV.includes(k)) base[k] = v;
  const d = startDaemon(cmd, args, { env: { ...base, NO_COLOR: '1', ...env } });
  running.push(d);
  const port = await waitUntil(`${cmd} ${args.join(' ')} did not report its port`, () => {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(d.output());
    return m ? Number(m[1]) : undefined;
  }, { dead: () => hasExited(d.child), context: () => d.output() });
  return { d, port, out: () => d.output() };
}

/** `ts-docker registry serve ARGS...` in the background. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Started> {
  requireBuilt();
  return start(process.execPath, [BIN, 'registry', 'serve', ...args], env);
}

beforeAll(async () => {
  dir = await makeSandbox();
  htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, await htpasswdEntry('alice', PASSWORD));
  storage = join(dir, 'storage');
  configFile = join(dir, 'config.yml');
  await writeFile(configFile, configYml({ storage, htpasswd }));
});

afterAll(async () => {
  await Promise.all(running.map((d) => d.stop()));
});

describe('registry serve config.yml', () => {
  it('takes address, storage and htpasswd auth from the file, with one warning line for the rest; login and push work', async () => {
    const s = await serve([configFile]);
    const out = s.out();
    expect(out).toContain(`listening on 127.0.0.1:${s.port} (http, htpasswd auth, realm "Config Realm", storage ${storage})`);
    const warnings = out.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual([
      `warning: ignoring settings the built-in registry does not support: log, storage.cache, storage.delete, http.secret, http.headers, health (${configFile})`,
    ]);
    const host = `127.0.0.1:${s.port}`;
    const config = await makeSandbox();
    const root = await makeRoot();
    const login = await tsd(['login', host, '-u', 'alice', '--password-stdin'], { config, input: PASSWORD });
    expect(login.code, login.stderr).toBe(0);
    const image = `${host}/configured/app:1`;
    await importDir(root, 'config layer', image);
    const push = await tsd(['push', image], { config, root });
    expect(push.code, push.stderr).toBe(0);
    expect(existsSync(tsRegistryBlobFile(storage, await manifestDigestFromStore(root, image)))).toBe(true);
    expect(s.out()).not.toContain(PASSWORD);
    await s.d.stop();
  });

  it('docker-registry itself accepts the same file and answers the same challenge', async () => {
    const real = await start(await requireTool('docker-registry'), ['serve', configFile]);
    const url = `http://127.0.0.1:${real.port}`;
    let ping = await waitUntil('docker-registry /v2/', () => call(url, 'GET', '/v2/'));
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toBe('Basic realm="Config Realm"');
    ping = await call(url, 'GET', '/v2/', { headers: { Authorization: BASIC } });
    expect(ping.status).toBe(200);
    await real.d.stop();
  });

  it('REGISTRY_* variables override the file and flags override both', async () => {
    const otherRoot = join(dir, 'flag-storage');
    const env = { REGISTRY_AUTH_HTPASSWD_REALM: 'Env Realm', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(dir, 'env-storage'), REGISTRY_HTTP_SECRET: 'x' };
    const s = await serve([configFile, '--root', otherRoot], env);
    expect(s.out()).toContain(`(http, htpasswd auth, realm "Env Realm", storage ${otherRoot})`);
    expect(s.out()).toContain(`warning: ignoring settings the built-in registry does not support: log, storage.cache, storage.delete, http.secret, http.headers, health (${configFile}); REGISTRY_HTTP_SECRET (environment)`);
    const challenge = await call(`http://127.0.0.1:${s.port}`, 'GET', '/v2/');
    expect(challenge.headers.get('www-authenticate')).toBe('Basic realm="Env Realm"');
    await s.d.stop();
    const flagged = await serve([configFile, '--realm', 'Flag Realm'], env);
    expect(flagged.out()).toContain(`(http, htpasswd auth, realm "Flag Realm", storage ${join(dir, 'env-storage')})`);
    await flagged.d.stop();
  });

  it('REGISTRY_AUTH=htpasswd and its path alone, without a file, turn auth on', async () => {
    const s = await serve(['--addr', '127.0.0.1:0', '--root', join(dir, 'env-only')], { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_PATH: htpasswd });
    expect(s.out()).toContain('(http, htpasswd auth, realm "ts-docker registry"');
    expect((await call(`http://127.0.0.1:${s.port}`, 'GET', '/v2/', { headers: { Authorization: BASIC } })).status).toBe(200);
    expect((await call(`http://127.0.0.1:${s.port}`, 'GET', '/v2/')).status).toBe(401);
    await s.d.stop();
  });
});

describe('what it refuses, in one line', () => {
  const refused: Array<[string, string, string]> = [
    ['token auth', 'auth:\n  token:\n    realm: https://auth.example/token\n', 'auth.token is not supported: ts-docker\'s registry has htpasswd (Basic) auth only'],
    ['another storage driver', 'storage:\n  s3:\n    bucket: b\n', "storage.s3 is not supported: ts-docker's registry stores on the local filesystem only"],
    ['mutual TLS', 'http:\n  tls:\n    certificate: /c.crt\n    key: /c.key\n    clientcas: [/ca.crt]\n', 'http.tls.clientcas is not supported'],
    ['a pull-through cache', 'proxy:\n  remoteurl: https://registry-1.docker.io\n', "proxy is not supported: ts-docker's registry is not a pull-through cache"],
    ['auth without a file', 'auth:\n  htpasswd:\n    realm: r\n', 'htpasswd auth is asked for but no file is named'],
    ['a value of the wrong type', 'http:\n  addr: 5000\n', 'http.addr must be a string'],
    ['broken YAML', 'http:\n  addr: [127.0.0.1\n', 'is not valid YAML: '],
  ];
  it.each(refused)('%s', async (_what, yml, message) => {
    const file = join(await makeSandbox(), 'config.yml');
    await writeFile(file, yml);
    const r = await runCli(['registry', 'serve', file]);
    expectOneLineError(r, message);
    expect(r.stdout).toBe('');
  });

  it('a missing config file, and REGISTRY_* variables asking for what is not there', async () => {
    expectOneLineError(await runCli(['registry', 'serve', join(dir, 'nope.yml')]), `registry configuration ${join(dir, 'nope.yml')}: no such file`);
    const root = join(dir, 'never');
    expectOneLineError(await runCli(['registry', 'serve', '--root', root], { env: { REGISTRY_AUTH: 'token' } }), "REGISTRY_AUTH=token is not supported: ts-docker's registry has htpasswd (Basic) auth only");
    expectOneLineError(await runCli(['registry', 'serve', '--root', root], { env: { REGISTRY_STORAGE: 's3' } }), 'REGISTRY_STORAGE=s3 is not supported');
    expectOneLineError(await runCli(['registry', 'serve', '--root', root], { env: { REGISTRY_AUTH: 'htpasswd' } }), 'htpasswd auth is asked for but no file is named');
    expect(existsSync(root)).toBe(false);
  });
});

it('never printed the password', () => {
  expect(leaked([PASSWORD])).toEqual([]);
});
