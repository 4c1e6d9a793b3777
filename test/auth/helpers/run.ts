/**
 * Runs the built CLI as a user would (`node bin/ts-docker.js --root R --config C ...`), keeping
 * a transcript of every output so a suite can prove no secret was ever printed. With `hosts`,
 * the CLI runs in its own mount namespace with a private /etc/hosts, so a test can give a
 * loopback server a real, non-loopback name (`registry.ts-docker.test`): that is what makes
 * ts-docker treat it as a secure registry (HTTPS with verification), as it would any name.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, makeSandbox, requireBuilt, whichTool } from '../../helpers/cli.js';
import type { RunResult } from '../../helpers/cli.js';

/** Options of {@link tsd}. */
export interface TsdOptions {
  /** `--config DIR`. */
  config: string;
  /** `--root DIR`. */
  root?: string;
  /** `DOCKER_CONFIG` (default: an empty dir, so the real ~/.docker is never read). */
  dockerConfig?: string;
  env?: Record<string, string>;
  input?: string;
  /** Extra /etc/hosts lines for this run: name -> address. */
  hosts?: Record<string, string>;
  timeoutMs?: number;
}

/** Every stdout and stderr the CLI printed in this test file. */
export const transcript: string[] = [];

const SCRUBBED = ['TS_DOCKER_ROOT', 'TS_DOCKER_CONFIG', 'TS_DOCKER_DEBUG', 'FORCE_COLOR', 'NODE_OPTIONS', 'DOCKER_CONFIG', 'SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS'];
let emptyDockerConfig: string | undefined;

async function hostsFile(hosts: Record<string, string>): Promise<string> {
  const file = join(await makeSandbox(), 'hosts');
  const lines = ['127.0.0.1 localhost', '::1 localhost', ...Object.entries(hosts).map(([name, addr]) => `${addr} ${name}`)];
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Runs ts-docker; never throws on a non-zero exit. */
export async function tsd(args: string[], o: TsdOptions): Promise<RunResult> {
  requireBuilt();
  emptyDockerConfig ??= await makeSandbox();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUBBED) delete env[k];
  Object.assign(env, { NO_COLOR: '1', DOCKER_CONFIG: o.dockerConfig ?? emptyDockerConfig }, o.env ?? {});
  const cli = [BIN, ...(o.root ? ['--root', o.root] : []), '--config', o.config, ...args];
  let cmd = process.execPath;
  let argv = cli;
  if (o.hosts) {
    const unshare = await whichTool('unshare');
    if (!unshare) throw new Error('missing tool unshare: run apt-get install -y util-linux');
    // A private mount namespace: bind a hosts file over /etc/hosts for this process only.
    const userns = process.getuid?.() === 0 ? [] : ['-r'];
    argv = [...userns, '-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', await hostsFile(o.hosts), process.execPath, ...cli];
    cmd = unshare;
  }
  const r = await new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: stdoutBuffer.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}]` : ''), stdoutBuffer });
    });
  });
  transcript.push(r.stdout, r.stderr);
  return r;
}

/** Like {@link tsd} but throws with both streams unless it exits 0. */
export async function tsdOk(args: string[], o: TsdOptions): Promise<RunResult> {
  const r = await tsd(args, o);
  if (r.code !== 0) throw new Error(`ts-docker ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Secrets that must never be printed; returns the ones found in the transcript. */
export function leaked(secrets: string[]): string[] {
  const all = transcript.join('\n');
  return secrets.filter((s) => all.includes(s) || all.includes(Buffer.from(s).toString('base64')));
}
