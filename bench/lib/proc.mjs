// Child processes for the bench: timed runs (wall clock, peak RSS through GNU time), and a
// registry of long-running children that the bench stops on every way out.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const TIME = '/usr/bin/time';
const live = new Set();

/** Fails early with the install command when a tool is missing. */
export function requireTools(tools) {
  const missing = tools.filter(([cmd]) => {
    if (cmd.startsWith('/')) return !existsSync(cmd);
    return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0;
  });
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    throw new Error(`missing ${missing.map(([c]) => c).join(', ')}: apt-get install -y ${pkgs}`);
  }
}

/** Starts a long-running child; it is killed by `stopAll` (and on exit). */
export function startDaemon(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let log = '';
  const keep = (b) => { log = (log + b.toString()).slice(-20_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  live.add(child);
  child.on('exit', () => live.delete(child));
  return { child, log: () => log };
}

/** Stops one child started by `startDaemon`, by its pid: TERM, then KILL after 5 s. */
export async function stopDaemon(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/** Stops every child still running. */
export async function stopAll() {
  await Promise.all([...live].map((c) => stopDaemon(c)));
}

// Last resort: a synchronous kill of what is left when the process exits some other way.
process.on('exit', () => { for (const c of live) try { c.kill('SIGKILL'); } catch { /* gone */ } });

/**
 * Runs a command to completion and times it. With `rss`, runs it under GNU time and reports the
 * peak resident set (KiB) of the process. Throws with its output when it fails.
 */
export async function timed(cmd, args, { env, rss = false, tmp, cwd, allowFail = false } = {}) {
  let file;
  let argv = [cmd, ...args];
  if (rss) {
    file = join(tmp, `time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
    argv = [TIME, '-f', '%M %U %S', '-o', file, ...argv];
  }
  const out = [];
  const err = [];
  const t0 = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env, cwd });
  live.add(child);
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, sig) => resolve(c ?? sig));
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  live.delete(child);
  const stdout = Buffer.concat(out).toString();
  const stderr = Buffer.concat(err).toString();
  let rssKiB;
  let cpu;
  if (file) {
    const text = await readFile(file, 'utf8').catch(() => '');
    await rm(file, { force: true });
    const [m, u, sy] = text.trim().split('\n').at(-1).split(' ').map(Number);
    rssKiB = m;
    cpu = { user: u, sys: sy };
  }
  if (code !== 0 && !allowFail) {
    throw new Error(`${argv.join(' ')} exited ${code}\n${stdout.slice(-2000)}${stderr.slice(-4000)}`);
  }
  return { wall, rssKiB, cpu, code, stdout, stderr };
}
