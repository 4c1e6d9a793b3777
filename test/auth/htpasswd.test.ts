/**
 * Basic auth against docker-registry with an htpasswd file: login (and what it stores, where,
 * with which mode), a wrong password, push and pull with stored credentials, logout, docker's
 * config.json as a source, and that the password never shows in any output.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, namesInStore } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import { leaked, tsd, tsdOk } from './helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
let reg: Registry;
let root: string;
let config: string;
let image: string;

beforeAll(async () => {
  reg = await startRegistry({ htpasswd: { alice: PASSWORD, bob: 'bobs-other-password' } });
  root = await makeRoot();
  config = await makeSandbox();
  image = `${reg.host}/team/app:1`;
  await importDir(root, 'basic auth layer', image);
});

afterAll(stopAllRegistries);

it('login --password-stdin verifies, warns that the file is unencrypted, and stores it mode 0600', async () => {
  const r = await tsd(['login', reg.host, '-u', 'alice', '--password-stdin'], { config, input: `${PASSWORD}\n` });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('Login Succeeded\n');
  const file = join(config, 'credentials.json');
  expect(r.stderr).toContain(`WARNING! Your password will be stored unencrypted in ${file}.`);
  expect(r.stderr).toContain('Configure a credential helper to remove this warning.');
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const doc = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, { auth: string }> };
  expect(doc.auths[reg.host]?.auth).toBe(BASIC);
});

it('a wrong password: docker\'s unauthorized message on one line, exit 1, nothing saved', async () => {
  const fresh = await makeSandbox();
  const r = await tsd(['login', reg.host, '-u', 'alice', '--password-stdin'], { config: fresh, input: 'not-the-password\n' });
  expectOneLineError(r, 'unauthorized: incorrect username or password');
  expect(r.stdout).toBe('');
  expect(existsSync(join(fresh, 'credentials.json'))).toBe(false);
  // With --debug there is a stack trace, still without any secret.
  const d = await tsd(['--debug', 'login', reg.host, '-u', 'alice', '-p', 'not-the-password-either'], { config: fresh });
  expect(d.code).toBe(1);
  expect(d.stderr).toContain('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  expect(d.stderr).toContain('unauthorized: incorrect username or password');
  expect(d.stderr).not.toContain('not-the-password-either');
  expect(existsSync(join(fresh, 'credentials.json'))).toBe(false);
});

it('-p works and prints docker\'s warning about --password-stdin', async () => {
  const other = await makeSandbox();
  const r = await tsd(['login', reg.host, '--username', 'bob', '--password', 'bobs-other-password'], { config: other });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
  expect(r.stdout).toBe('Login Succeeded\n');
});

it('refuses docker\'s impossible flag combinations and interactive login without a terminal', async () => {
  expectOneLineError(await tsd(['login', reg.host, '--password-stdin'], { config, input: 'x' }), 'Must provide --username with --password-stdin');
  expectOneLineError(await tsd(['login', reg.host, '-u', 'alice', '-p', 'x', '--password-stdin'], { config, input: 'x' }), '--password and --password-stdin are mutually exclusive');
  expectOneLineError(await tsd(['login', '127.0.0.1:9', '-u', 'alice'], { config }), 'Cannot perform an interactive login from a non TTY device');
});

it('push and pull use the stored credentials (progress events and debug output carry no secret)', async () => {
  const push = await tsd(['--debug', 'push', '--progress', 'json', image], { config, root });
  expect(push.code, push.stderr).toBe(0);
  expect(push.stdout).toContain('"type":"pushed"');
  const other = await makeRoot();
  const pull = await tsd(['pull', image], { config, root: other, env: { TS_DOCKER_DEBUG: '1' } });
  expect(pull.code, pull.stderr).toBe(0);
  expect(await namesInStore(other)).toEqual([image]);
  // The registry saw alice, not an anonymous client.
  expect(reg.log()).toMatch(reg.backend === 'builtin' ? /^\S+ alice "GET \/v2\//m : /auth\.user\.name="?alice/);
});

it('login with no arguments reuses the stored credentials', async () => {
  const r = await tsd(['login', reg.host], { config });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('Authenticating with existing credentials...\nLogin Succeeded\n');
});

it('logout removes them; a push is then denied with a clear one-line message', async () => {
  const out = await tsdOk(['logout', reg.host], { config });
  expect(out.stdout).toBe(`Removing login credentials for ${reg.host}\n`);
  const doc = JSON.parse(await readFile(join(config, 'credentials.json'), 'utf8')) as { auths: Record<string, unknown> };
  expect(doc.auths[reg.host]).toBeUndefined();
  const push = await tsd(['push', image], { config, root });
  expectOneLineError(push, `unauthorized: authentication required; log in with: ts-docker login ${reg.host}`);
  expect((await tsdOk(['logout', reg.host], { config })).stdout).toBe(`Not logged in to ${reg.host}\n`);
});

it('uses docker\'s config.json (auths with base64 user:password), never writing to it', async () => {
  const dockerDir = await makeSandbox();
  const dockerFile = join(dockerDir, 'config.json');
  const content = JSON.stringify({ auths: { [`https://${reg.host}/v1/`]: { auth: BASIC } } }, null, '\t');
  await writeFile(dockerFile, content);
  const fresh = await makeSandbox();
  const pull = await tsd(['pull', image], { config: fresh, root: await makeRoot(), dockerConfig: dockerDir });
  expect(pull.code, pull.stderr).toBe(0);
  const logout = await tsd(['logout', reg.host], { config: fresh, dockerConfig: dockerDir });
  expect(logout.stderr).toContain(`${dockerFile} still holds credentials for ${reg.host}`);
  expect(await readFile(dockerFile, 'utf8')).toBe(content);
});

it('a broken docker config.json is named in the error', async () => {
  const dockerDir = await makeSandbox();
  await mkdir(dockerDir, { recursive: true });
  await writeFile(join(dockerDir, 'config.json'), '{ not json');
  const r = await tsd(['pull', image], { config: await makeSandbox(), root: await makeRoot(), dockerConfig: dockerDir });
  expectOneLineError(r, `${join(dockerDir, 'config.json')} is not valid JSON`);
});

it('never printed the password, in any output of this file', () => {
  expect(leaked([PASSWORD, BASIC, 'bobs-other-password'])).toEqual([]);
});
