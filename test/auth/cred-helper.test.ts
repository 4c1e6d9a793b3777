/**
 * Credential helpers in docker's protocol: a `docker-credential-tstest` script on PATH is used
 * for `store` on login, `get` on push and pull, `erase` on logout; chosen by ts-docker's
 * config.json or docker's; a missing helper is an error that names it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import type { CredHelper } from './helpers/cred-helper.js';
import { installCredHelper } from './helpers/cred-helper.js';
import { leaked, tsd } from './helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
let reg: Registry;
let helper: CredHelper;
let env: Record<string, string>;
let root: string;
let image: string;

beforeAll(async () => {
  reg = await startRegistry({ htpasswd: { carol: PASSWORD } });
  helper = await installCredHelper(await makeSandbox());
  env = { PATH: `${helper.binDir}:${process.env['PATH'] ?? ''}` };
  root = await makeRoot();
  image = `${reg.host}/helped/app:1`;
  await importDir(root, 'helper layer', image);
});

afterAll(stopAllRegistries);

it('credsStore in ts-docker\'s config.json: login stores through the helper, push gets from it, logout erases', async () => {
  const config = await makeSandbox();
  await writeFile(join(config, 'config.json'), JSON.stringify({ credsStore: 'tstest' }));
  const login = await tsd(['login', reg.host, '-u', 'carol', '--password-stdin'], { config, env, input: PASSWORD });
  expect(login.code, login.stderr).toBe(0);
  expect(login.stdout).toBe('Login Succeeded\n');
  expect(login.stderr).not.toContain('unencrypted');
  expect(await helper.store()).toEqual({ [reg.host]: { Username: 'carol', Secret: PASSWORD } });
  expect(existsSync(join(config, 'credentials.json'))).toBe(false);

  const push = await tsd(['push', image], { config, env, root });
  expect(push.code, push.stderr).toBe(0);
  expect(await helper.calls()).toEqual([`store ${reg.host}`, `get ${reg.host}`]);

  const logout = await tsd(['logout', reg.host], { config, env });
  expect(logout.stdout).toBe(`Removing login credentials for ${reg.host}\n`);
  expect((await helper.calls()).at(-1)).toBe(`erase ${reg.host}`);
  expect(await helper.store()).toEqual({});
});

it('credHelpers in docker\'s config.json pick the helper per registry', async () => {
  const dockerConfig = await makeSandbox();
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'tstest' } }));
  const config = await makeSandbox();
  const login = await tsd(['login', reg.host, '-u', 'carol', '--password-stdin'], { config, env, dockerConfig, input: PASSWORD });
  expect(login.code, login.stderr).toBe(0);
  const pull = await tsd(['pull', image], { config, env, dockerConfig, root: await makeRoot() });
  expect(pull.code, pull.stderr).toBe(0);
  expect((await helper.calls()).slice(-2)).toEqual([`store ${reg.host}`, `get ${reg.host}`]);
});

it('a helper that is not installed: a one-line error naming it, and login saves nothing', async () => {
  const config = await makeSandbox();
  await writeFile(join(config, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'not-installed' } }));
  const push = await tsd(['push', image], { config, env, root });
  expectOneLineError(push, 'credential helper docker-credential-not-installed not found on PATH');
  expect(push.stderr).toContain(join(config, 'config.json'));
  const login = await tsd(['login', reg.host, '-u', 'carol', '--password-stdin'], { config, env, input: PASSWORD });
  expectOneLineError(login, 'docker-credential-not-installed');
  expect(existsSync(join(config, 'credentials.json'))).toBe(false);
});

it('never printed the password', () => {
  expect(leaked([PASSWORD])).toEqual([]);
});
