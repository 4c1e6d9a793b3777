/**
 * The pure parts behind login, table-driven: registry keys as docker files them, docker's
 * config.json entries, helper selection, ts-docker's credentials file, certs.d reading.
 */
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CredentialsFile } from '../../src/config/credentials-file.js';
import { credentialsFromEntry, findAuthEntry, helperIn } from '../../src/config/docker-config.js';
import { DOCKER_HUB_KEY, registryKey } from '../../src/config/registry-key.js';
import { readHostCerts } from '../../src/transport/tls.js';
import { makeSandbox } from '../helpers/cli.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

it.each([
  ['', DOCKER_HUB_KEY],
  ['docker.io', DOCKER_HUB_KEY],
  ['index.docker.io', DOCKER_HUB_KEY],
  ['registry-1.docker.io', DOCKER_HUB_KEY],
  ['https://index.docker.io/v1/', DOCKER_HUB_KEY],
  ['localhost:5000', 'localhost:5000'],
  ['https://localhost:5000/v1/', 'localhost:5000'],
  ['http://127.0.0.1:5000', '127.0.0.1:5000'],
  ['ghcr.io/owner/repo', 'ghcr.io'],
])('registryKey(%j) = %j', (server, key) => expect(registryKey(server)).toBe(key));

it('finds auths entries written as URLs and decodes them like docker', () => {
  const auths = { 'https://reg.example:5000/v1/': { auth: b64('u:p:with:colons') }, [DOCKER_HUB_KEY]: { identitytoken: 'tok' } };
  expect(credentialsFromEntry(findAuthEntry(auths, 'reg.example:5000')!, 'f', 'k')).toEqual({ username: 'u', password: 'p:with:colons' });
  expect(credentialsFromEntry(findAuthEntry(auths, registryKey('docker.io'))!, 'f', 'k')).toEqual({ identityToken: 'tok' });
  expect(findAuthEntry(auths, 'other.example')).toBeUndefined();
  expect(() => credentialsFromEntry({ auth: b64('no-colon') }, '/x/config.json', 'k')).toThrow('invalid auth configuration file /x/config.json');
});

it.each([
  [{ credsStore: 'pass' }, 'reg:5000', 'pass'],
  [{ credsStore: 'pass', credHelpers: { 'reg:5000': 'ecr-login' } }, 'reg:5000', 'ecr-login'],
  [{ credsStore: 'pass', credHelpers: { 'reg:5000': 'ecr-login' } }, 'other:5000', 'pass'],
  [{ credHelpers: { 'https://reg:5000': 'gcloud' } }, 'reg:5000', 'gcloud'],
  [{}, 'reg:5000', undefined],
])('helperIn(%j, %j) = %j', (doc, key, want) => expect(helperIn(doc, key)).toBe(want));

it('ts-docker\'s credentials file: set, get, remove, and mode 0600 even over a laxer file', async () => {
  const dir = await makeSandbox();
  await writeFile(join(dir, 'credentials.json'), '{}');
  await chmod(join(dir, 'credentials.json'), 0o644);
  const f = new CredentialsFile(dir);
  await f.set('127.0.0.1:5000', { username: 'a', password: 'b' });
  expect((await stat(f.path)).mode & 0o777).toBe(0o600);
  expect(f.get('127.0.0.1:5000')).toEqual({ username: 'a', password: 'b' });
  await f.set(DOCKER_HUB_KEY, { username: 'a', identityToken: 't' });
  expect(f.get(DOCKER_HUB_KEY)).toEqual({ username: 'a', identityToken: 't' });
  expect(await f.remove('127.0.0.1:5000')).toBe(true);
  expect(await f.remove('127.0.0.1:5000')).toBe(false);
  expect(f.get('127.0.0.1:5000')).toBeUndefined();
});

it('a damaged credentials file is named when credentials are needed, not before', async () => {
  const dir = await makeSandbox();
  await writeFile(join(dir, 'credentials.json'), '{ nope');
  const f = new CredentialsFile(dir);
  expect(f.path).toBe(join(dir, 'credentials.json'));
  expect(() => f.get('reg:5000')).toThrow(`${join(dir, 'credentials.json')} is not valid JSON`);
});

it('certs.d: *.crt are CAs, *.cert needs its *.key and the reverse, ts-docker\'s folder first', async () => {
  const a = await makeSandbox();
  const b = await makeSandbox();
  await mkdir(join(a, 'reg:5000'));
  await mkdir(join(b, 'reg:5000'));
  await writeFile(join(a, 'reg:5000', 'ca.crt'), 'CA-A');
  await writeFile(join(b, 'reg:5000', 'ca.crt'), 'CA-B');
  await writeFile(join(b, 'reg:5000', 'client.cert'), 'CERT');
  await writeFile(join(b, 'reg:5000', 'client.key'), 'KEY');
  expect(readHostCerts([a, b], 'reg:5000')).toEqual({ ca: ['CA-A', 'CA-B'], cert: 'CERT', key: 'KEY' });
  await writeFile(join(a, 'reg:5000', 'lonely.key'), 'KEY');
  expect(() => readHostCerts([a, b], 'reg:5000')).toThrow(`missing client certificate lonely.cert for key ${join(a, 'reg:5000', 'lonely.key')}`);
  await writeFile(join(a, 'reg:5000', 'other.cert'), 'CERT');
  expect(() => readHostCerts([b, a], 'reg:5000')).toThrow('missing key other.key for client certificate');
  // A registry on 443 may be filed without the port, as docker users do.
  await mkdir(join(b, 'secure.example'));
  await writeFile(join(b, 'secure.example', 'ca.crt'), 'CA-443');
  expect(readHostCerts([b], 'secure.example').ca).toEqual(['CA-443']);
  expect(readHostCerts([b], 'secure.example:443').ca).toEqual(['CA-443']);
});
