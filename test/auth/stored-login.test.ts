/**
 * `login` at a terminal as docker does it, and stored logins gone bad: stored credentials the
 * registry now refuses ("Stored credentials invalid or expired", then the prompt offers the stored
 * username), an empty username refused before the password is asked, and damaged credential
 * files named without quoting any of their content. The terminal is a real pty (`script`), and
 * each answer is typed only once its prompt is on the screen, as a person would.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, SCRUBBED_ENV, expectOneLineError, importDir, makeRoot, makeSandbox, requireBuilt, whichTool } from '../helpers/cli.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry, stopAllRegistries } from '../helpers/registry.js';
import { leaked, transcript, tsd } from './helpers/run.js';

const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');
let reg: Registry;
let root: string;
let image: string;

/** What a terminal session showed and how it ended. */
interface Session {
  code: number;
  screen: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `ts-docker --config CONFIG login ARGS` on a pty, typing each answer once the screen shows its prompt. */
async function loginOnTerminal(config: string, args: string[], answers: Array<[prompt: RegExp, typed: string]>): Promise<Session> {
  requireBuilt();
  const script = await whichTool('script');
  if (!script) throw new Error('missing tool script: run apt-get install -y bsdutils');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: await makeSandbox() };
  for (const k of SCRUBBED_ENV) delete env[k];
  const cmd = [process.execPath, BIN, '--config', config, 'login', ...args].map(quote).join(' ');
  const session = await new Promise<Session>((resolve, reject) => {
    const child = spawn(script, ['-qec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const pending = [...answers];
    let screen = '';
    let from = 0;
    child.stdout.on('data', (b: Buffer) => {
      screen += b.toString('utf8');
      const next = pending[0];
      if (next && next[0].test(screen.slice(from))) {
        pending.shift();
        from = screen.length;
        child.stdin.write(next[1]);
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      screen += b.toString('utf8');
    });
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    // stdin stays open until the command ends: script ends the session when its input does.
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      // Colour codes dropped: the words are what is checked here (chalk colours "Error:" on a terminal).
      // eslint-disable-next-line no-control-regex
      resolve({ code: code ?? -1, screen: screen.replace(/\r\n/g, '\n').replace(/\u001b\[[0-9;]*m/g, '') });
    });
  });
  transcript.push(session.screen);
  return session;
}

beforeAll(async () => {
  reg = await startRegistry({ htpasswd: { alice: PASSWORD } });
  root = await makeRoot();
  image = `${reg.host}/team/app:1`;
  await importDir(root, 'stored login layer', image);
});

afterAll(stopAllRegistries);

it('stored credentials the registry refuses: docker\'s notice, then a prompt that offers the stored username', async () => {
  const config = await makeSandbox();
  await writeFile(join(config, 'credentials.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:old-password').toString('base64') } } }));
  const s = await loginOnTerminal(config, [reg.host], [[/Username \(alice\): $/, '\r'], [/Password: $/, `${PASSWORD}\r`]]);
  expect(s.code, s.screen).toBe(0);
  expect(s.screen).toContain('Authenticating with existing credentials...\nStored credentials invalid or expired\nUsername (alice): \nPassword: \n');
  expect(s.screen).toContain('Login Succeeded\n');
  const doc = JSON.parse(await readFile(join(config, 'credentials.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  expect(doc.auths[reg.host]?.auth).toBe(BASIC);
  expect((await tsd(['push', image], { config, root })).code).toBe(0);
});

it('without a terminal, refused stored credentials end with docker\'s non-TTY error and stay as they were', async () => {
  const config = await makeSandbox();
  const stale = JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:old-password').toString('base64') } } });
  await writeFile(join(config, 'credentials.json'), stale);
  const r = await tsd(['login', reg.host], { config });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('Authenticating with existing credentials...\n');
  expect(r.stderr).toBe('Stored credentials invalid or expired\nError: Cannot perform an interactive login from a non TTY device\n');
  expect(await readFile(join(config, 'credentials.json'), 'utf8')).toBe(stale);
});

it('an empty username at the prompt is refused before the password is asked', async () => {
  const config = await makeSandbox();
  const s = await loginOnTerminal(config, [reg.host], [[/Username: $/, '\r']]);
  expect(s.code).toBe(1);
  expect(s.screen).toBe('Username: \nError: Non-null Username Required\n');
});

it('a damaged credentials.json or docker config.json is named without quoting the credentials in it', async () => {
  // V8's JSON.parse message quotes the text around the fault; here that is the end of the secret.
  const damaged = `{"auths": {"${reg.host}": {"auth": "${BASIC}", "email": none}}}`;
  const ours = await makeSandbox();
  await writeFile(join(ours, 'credentials.json'), damaged);
  const r1 = await tsd(['push', image], { config: ours, root });
  expectOneLineError(r1, `${join(ours, 'credentials.json')} is not valid JSON: Unexpected token 'o'`);
  const dockers = await makeSandbox();
  await writeFile(join(dockers, 'config.json'), damaged);
  const r2 = await tsd(['push', image], { config: await makeSandbox(), root, dockerConfig: dockers });
  expectOneLineError(r2, `${join(dockers, 'config.json')} is not valid JSON: Unexpected token 'o'`);
  for (const r of [r1, r2]) expect(r.stderr).not.toContain(BASIC.slice(-6));
});

it('never printed the password', () => {
  expect(leaked([PASSWORD, BASIC])).toEqual([]);
});
