/** `ts-docker login [SERVER] [-u USER] [-p PASS | --password-stdin]`: docker's login, texts and all. */
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings.js';
import { InterruptedError, InvalidArgumentError } from '../../errors.js';
import type { SavedTo } from '../../config/credentials.js';
import { LoginError, login, storedLogin } from '../../ops/login.js';
import { globalsOf, out } from '../context.js';

interface Opts {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  insecureRegistry?: string[];
}

/** docker's words, printed when credentials land in a plain file. */
function unencryptedWarning(path: string): string {
  return `WARNING! Your password will be stored unencrypted in ${path}.\n`
    + 'Configure a credential helper to remove this warning. See\n'
    + 'https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n';
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal; `hidden` echoes nothing (for the password). */
function prompt(question: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows: what is typed as soon as it appears must not be echoed.
  stdin.setRawMode?.(true);
  process.stdout.write(question);
  return new Promise((resolve, reject) => {
    let line = '';
    const finish = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      process.stdout.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new InterruptedError('interrupted'));
        if (ch === '\u007f' || ch === '\b') {
          if (line.length > 0 && !hidden) process.stdout.write('\b \b');
          line = line.slice(0, -1);
        } else {
          line += ch;
          if (!hidden) process.stdout.write(ch);
        }
      }
    };
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Runs `login`. */
export default async function run(cmd: Command, server: string | undefined, opts: Opts): Promise<void> {
  const g = globalsOf(cmd);
  if (opts.password !== undefined && opts.passwordStdin) throw new InvalidArgumentError('--password and --password-stdin are mutually exclusive');
  if (opts.passwordStdin && !opts.username) throw new InvalidArgumentError('Must provide --username with --password-stdin');
  const settings = loadSettings(g.config);
  const common = { configDir: g.config, insecure: [...(settings.insecureRegistries ?? []), ...(opts.insecureRegistry ?? [])] };
  let password = opts.password;
  if (password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (opts.passwordStdin) password = (await readAll(process.stdin)).replace(/\n$/, '').replace(/\r$/, '');

  let saved: SavedTo | undefined;
  let defaultUsername: string | undefined;
  if (opts.username === undefined && password === undefined) {
    // docker first tries what is already stored for the server.
    const existing = await storedLogin(server, common);
    if (existing) {
      out('Authenticating with existing credentials...\n');
      defaultUsername = existing.username;
      try {
        saved = await login(server, existing, common);
      } catch (err) {
        if (!(err instanceof LoginError)) throw err;
        // docker: a refused stored login is reported, then the user is asked as if there was none.
        process.stderr.write('Stored credentials invalid or expired\n');
      }
    }
  }
  if (!saved) {
    const interactive = !!process.stdin.isTTY && !opts.passwordStdin;
    let username = opts.username;
    if (username === undefined || (password === undefined && !opts.passwordStdin)) {
      if (!interactive) throw new InvalidArgumentError('Cannot perform an interactive login from a non TTY device');
      if (username === undefined) {
        username = (await prompt(defaultUsername ? `Username (${defaultUsername}): ` : 'Username: ', false)).trim() || defaultUsername;
        // docker refuses an empty username before asking for the password.
        if (!username) throw new InvalidArgumentError('Non-null Username Required');
      }
      if (password === undefined) password = await prompt('Password: ', true);
    }
    if (!username) throw new InvalidArgumentError('Non-null Username Required');
    if (!password) throw new InvalidArgumentError('Password Required');
    saved = await login(server, { username, password }, common);
  }
  if (saved.kind === 'file') process.stderr.write(unencryptedWarning(saved.path));
  out('Login Succeeded\n');
}

