/**
 * push/pull from the test's side: run the built CLI with an isolated config dir, start it in
 * the background to kill it half-way, and read docker's push/pull lines back.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { RunOptions, RunResult } from './cli.js';
import { BIN, REPO_ROOT, SCRUBBED_ENV, makeSandbox, requireBuilt, runCli } from './cli.js';

let configDir: Promise<string> | undefined;
const background = new Set<ChildProcess>();

// A test that failed before killing its background CLI must not leave it running.
afterAll(() => {
  for (const c of background) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  background.clear();
});

/** An empty ts-docker config dir for this test file (no stored logins, no settings from the developer's machine). */
export function isolatedConfig(): Promise<string> {
  configDir ??= (async () => {
    const d = join(await makeSandbox(), 'config');
    await mkdir(d);
    return d;
  })();
  return configDir;
}

/** {@link runCli} with `TS_DOCKER_CONFIG` pointing at {@link isolatedConfig}. */
export async function tsd(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runCli(args, { timeoutMs: 300_000, ...opts, env: { TS_DOCKER_CONFIG: await isolatedConfig(), ...(opts.env ?? {}) } });
}

/** A CLI run in the background. */
export interface BackgroundCli {
  pid: number;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  result: Promise<RunResult>;
  /** Sends `signal` (default SIGKILL) to this process only. */
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `node bin/ts-docker.js --root ROOT ARGS...` in the background (same environment as {@link tsd}). */
export async function startCli(args: string[], opts: { root: string; env?: Record<string, string> }): Promise<BackgroundCli> {
  requireBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUBBED_ENV) delete env[k];
  Object.assign(env, { NO_COLOR: '1', TS_DOCKER_CONFIG: await isolatedConfig() }, opts.env ?? {});
  const child = spawn(process.execPath, [BIN, '--root', opts.root, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  background.add(child);
  child.on('exit', () => background.delete(child));
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const result = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBuffer = Buffer.concat(out);
      let stderr = Buffer.concat(err).toString('utf8');
      if (signal) stderr += `\n[test harness] ts-docker ${args.join(' ')}: killed by ${signal}\n`;
      resolve({ code: code ?? -1, stdout: stdoutBuffer.toString('utf8'), stderr, stdoutBuffer });
    });
  });
  if (child.pid === undefined) throw new Error('could not start the CLI');
  return {
    pid: child.pid,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    result,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** docker's push lines, parsed. */
export interface PushOutput {
  /** From `The push refers to repository [X]`. */
  repository: string | undefined;
  /** `<id12>` -> `Pushed` | `Layer already exists` | `Mounted from <repo>` (last status seen). */
  layers: Record<string, string>;
  /** One per pushed tag: `<tag>: digest: sha256:... size: N`. */
  digests: Array<{ tag: string; digest: string; size: number }>;
}

/** Parses plain `push` output. */
export function parsePush(stdout: string): PushOutput {
  const res: PushOutput = { repository: undefined, layers: {}, digests: [] };
  for (const line of stdout.split('\n')) {
    const repo = /^The push refers to repository \[(.+)\]$/.exec(line);
    if (repo) res.repository = repo[1];
    const layer = /^([0-9a-f]{12}): (Pushed|Layer already exists|Mounted from .+)$/.exec(line);
    if (layer) res.layers[layer[1]!] = layer[2]!;
    const d = /^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(line);
    if (d) res.digests.push({ tag: d[1]!, digest: d[2]!, size: Number(d[3]) });
  }
  return res;
}

/** docker's pull lines, parsed. */
export interface PullOutput {
  /** `<tag>: Pulling from <repo path>` lines: [tag, repo]. */
  pulling: Array<{ tag: string; repo: string }>;
  /** `<id12>` -> `Pull complete` | `Already exists`. */
  layers: Record<string, string>;
  digests: string[];
  statuses: string[];
  /** The last non-empty line (docker prints the full name there). */
  last: string | undefined;
}

/** Parses plain `pull` output. */
export function parsePull(stdout: string): PullOutput {
  const res: PullOutput = { pulling: [], layers: {}, digests: [], statuses: [], last: undefined };
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    res.last = line;
    const p = /^(\S+): Pulling from (\S+)$/.exec(line);
    if (p) res.pulling.push({ tag: p[1]!, repo: p[2]! });
    const l = /^([0-9a-f]{12}): (Pull complete|Already exists)$/.exec(line);
    if (l) res.layers[l[1]!] = l[2]!;
    const d = /^Digest: (sha256:[0-9a-f]{64})$/.exec(line);
    if (d) res.digests.push(d[1]!);
    const s = /^Status: (.+)$/.exec(line);
    if (s) res.statuses.push(s[1]!);
  }
  return res;
}

/** `sha256:abcdef...` -> `abcdef012345` (the id docker prints per layer). */
export function id12(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** A result as text for assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

/** Matches docker's retry line. */
export const RETRYING = /Retrying in \d+ seconds?: /;

/** Runs the CLI in the background, polling its peak RSS (VmHWM, kB) from /proc until it exits. */
export async function runMeasured(args: string[], root: string, env?: Record<string, string>): Promise<{ r: RunResult; peakKb: number }> {
  const cli = await startCli(args, { root, ...(env ? { env } : {}) });
  let peakKb = 0;
  const poll = async (): Promise<void> => {
    const m = /VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${cli.pid}/status`, 'utf8').catch(() => ''));
    if (m) peakKb = Math.max(peakKb, Number(m[1]));
  };
  const timer = setInterval(() => void poll(), 10);
  const r = await cli.result;
  clearInterval(timer);
  return { r, peakKb };
}
