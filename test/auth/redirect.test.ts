/**
 * Blob downloads redirected to other storage (as registries on S3 or a CDN do): the client
 * follows the redirect to another loopback host, 127.0.0.2, and never sends it the registry's
 * Authorization header. Checked on the server side, by the server that received the requests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importDir, makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import type { BlobStore, Proxy } from './helpers/proxy.js';
import { startBlobStore, startProxy } from './helpers/proxy.js';
import { leaked, tsd, tsdOk } from './helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const BASIC = `Basic ${Buffer.from(`dave:${PASSWORD}`).toString('base64')}`;
let reg: Registry;
let blobs: BlobStore;
let proxy: Proxy;

beforeAll(async () => {
  reg = await startRegistry({ htpasswd: { dave: PASSWORD } });
  blobs = await startBlobStore('127.0.0.2', reg.port, BASIC);
  // Authorized blob downloads are sent elsewhere, the way a registry on S3 redirects to a signed URL.
  proxy = await startProxy(reg.port, async (req) => {
    const m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.path);
    if (req.method !== 'GET' || !m || !req.headers.authorization) return undefined;
    return { status: 307, headers: { location: `${blobs.base}/${m[1]}/blobs/${m[2]}` } };
  });
});

afterAll(async () => {
  await proxy.stop();
  await blobs.stop();
  await stopAllRegistries();
});

it('a pull whose blobs redirect to 127.0.0.2 sends that host no Authorization', async () => {
  const config = await makeSandbox();
  const root = await makeRoot();
  const name = `${proxy.host}/team/app:1`;
  await importDir(root, 'redirected layer', name);
  await tsdOk(['login', proxy.host, '-u', 'dave', '--password-stdin'], { config, input: PASSWORD });
  const push = await tsd(['push', name], { config, root });
  expect(push.code, push.stderr).toBe(0);

  const back = await makeRoot();
  const pull = await tsd(['pull', name], { config, root: back });
  expect(pull.code, pull.stderr).toBe(0);
  expect(await manifestDigestFromStore(back, name)).toBe(await manifestDigestFromStore(root, name));
  // The registry side saw the credentials on the blob requests it redirected...
  const redirected = proxy.log.filter((e) => e.status === 307);
  expect(redirected.length).toBeGreaterThanOrEqual(2);
  expect(redirected.every((e) => e.authorization === BASIC)).toBe(true);
  // ...and the other host got every blob without them.
  expect(blobs.seen.length).toBe(redirected.length);
  expect(blobs.seen.map((h) => h.authorization)).toEqual(blobs.seen.map(() => undefined));
});

it('never printed the password', () => {
  expect(leaked([PASSWORD, BASIC.slice('Basic '.length)])).toEqual([]);
});
