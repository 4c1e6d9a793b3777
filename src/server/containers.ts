/**
 * Detached registries ("containers" to a docker user): `ts-docker run -d -p 5000:5000 registry`
 * starts `registry serve` in the background. Each one has a folder under the store's
 * `containers/` sidecar: `container.json` (what was asked), `pid`, `log` (stdout + stderr), `exit`
 * (how it ended), and `data/` (the registry storage unless `-v DIR:/var/lib/registry` named another).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../store/lock.js';

/** What `run` recorded about a detached registry. */
export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  /** `127.0.0.1:5000` as it listens. */
  addr: string;
  /** The `-p` spec as given (`5000:5000`), or undefined. */
  publish?: string | undefined;
  storage: string;
  created: string;
  /** Remove the folder when stopped (`--rm`). */
  autoRemove: boolean;
  /** Extra `registry serve` flags (auth, TLS). */
  serveArgs: string[];
}

/** How a detached registry ended: its exit code and when (docker's `Exited (0) 3 seconds ago`). */
export interface ContainerExit {
  code: number;
  finishedAt: string;
}

/** A recorded registry and whether its process is alive. */
export interface ContainerState extends ContainerInfo {
  pid: number | undefined;
  running: boolean;
  /** How it ended, when it is not running. */
  exit?: ContainerExit | undefined;
  dir: string;
}

/** Exit code of a process killed by SIGKILL (128 + 9), as docker shows for `kill -9` and the OOM killer. */
const KILLED = 137;

/** Records that the registry of container folder `dir` ended with `code` (its own exit handler, or `stop`). */
export function recordExit(dir: string, code: number): void {
  try {
    writeFileSync(join(dir, 'exit'), JSON.stringify({ code, finishedAt: new Date().toISOString() }));
  } catch {
    // The folder is gone (`--rm`, or a registry that never started): nothing to record.
  }
}

/**
 * How the stopped registry in `dir` ended. One that left no record was killed by a signal it
 * cannot catch: SIGKILL, and its last log line is the last sign of life.
 */
async function exitOf(dir: string, created: string): Promise<ContainerExit> {
  try {
    return JSON.parse(await readFile(join(dir, 'exit'), 'utf8')) as ContainerExit;
  } catch {
    const logged = await stat(join(dir, 'log')).catch(() => undefined);
    return { code: KILLED, finishedAt: logged ? logged.mtime.toISOString() : created };
  }
}

/** The folder holding every container of a store root. */
export function containersDir(storeRoot: string): string {
  return join(storeRoot, 'containers');
}

function alive(pid: number | undefined): boolean {
  return pid !== undefined && processAlive(pid);
}

/** Is `pid` still our registry (not a recycled pid)? Checked through /proc where it exists. */
async function isOurs(pid: number, id: string): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return cmdline.includes('serve') && cmdline.some((a) => a.includes(id));
  } catch {
    return alive(pid);
  }
}

/** Every recorded container, newest first. */
export async function listContainers(storeRoot: string): Promise<ContainerState[]> {
  const dir = containersDir(storeRoot);
  let ids: string[];
  try {
    ids = await readdir(dir);
  } catch {
    return [];
  }
  const out: ContainerState[] = [];
  for (const id of ids) {
    const d = join(dir, id);
    try {
      const info = JSON.parse(await readFile(join(d, 'container.json'), 'utf8')) as ContainerInfo;
      const pidText = await readFile(join(d, 'pid'), 'utf8').catch(() => '');
      const pid = pidText.trim() ? Number(pidText.trim()) : undefined;
      const running = pid !== undefined && alive(pid) && (await isOurs(pid, id));
      out.push({ ...info, pid, running, exit: running ? undefined : await exitOf(d, info.created), dir: d });
    } catch {
      // A half-written folder from an interrupted run: not a container.
    }
  }
  return out.sort((a, b) => b.created.localeCompare(a.created));
}

/** Finds a container by full ID, unique ID prefix, or name. */
export async function findContainer(storeRoot: string, ref: string): Promise<ContainerState | undefined> {
  const all = await listContainers(storeRoot);
  const exact = all.find((c) => c.id === ref || c.name === ref);
  if (exact) return exact;
  const byPrefix = all.filter((c) => c.id.startsWith(ref));
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

/** Options of {@link startDetached}. */
export interface DetachedOptions {
  storeRoot: string;
  /** The CLI entry to run (`bin/ts-docker.js`). */
  bin: string;
  image: string;
  host: string;
  port: number;
  publish?: string | undefined;
  /** Storage folder; default `<container dir>/data`. */
  storage?: string | undefined;
  name?: string | undefined;
  autoRemove: boolean;
  serveArgs: string[];
  /** `REGISTRY_*` settings that have no flag (upload purging), resolved by `run` from -e and the config file. */
  env?: Record<string, string> | undefined;
}

/** Starts `registry serve` detached and waits until it listens; returns its state. */
export async function startDetached(o: DetachedOptions): Promise<ContainerState> {
  const id = randomBytes(32).toString('hex');
  const name = o.name ?? `registry_${id.slice(0, 6)}`;
  if ((await listContainers(o.storeRoot)).some((c) => c.name === name)) {
    throw new Error(`Conflict. The container name "/${name}" is already in use. Remove it or choose another --name`);
  }
  const dir = join(containersDir(o.storeRoot), id);
  await mkdir(dir, { recursive: true });
  const storage = o.storage ?? join(dir, 'data');
  const addr = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
  const info: ContainerInfo = { id, name, image: o.image, addr, publish: o.publish, storage, created: new Date().toISOString(), autoRemove: o.autoRemove, serveArgs: o.serveArgs };
  await writeFile(join(dir, 'container.json'), JSON.stringify(info, null, 2));
  const logPath = join(dir, 'log');
  const fd = openSync(logPath, 'a');
  // The folder rides along as --container-dir: the registry records its exit there, and its path
  // (which holds the id) lets `ps` tell our process from a recycled pid.
  const child = spawn(process.execPath, [o.bin, 'registry', 'serve', '--addr', addr, '--root', storage, '--container-dir', dir, ...o.serveArgs], {
    detached: true,
    stdio: ['ignore', fd, fd],
    // As docker keeps the host's environment out of a container: REGISTRY_* settings reach the
    // registry only as the flags `run` resolved from -e and the volumes (serveArgs), and the
    // variables it resolved for settings without a flag (o.env).
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_'))), ...o.env },
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the registry process');
  await writeFile(join(dir, 'pid'), String(pid));
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.unref();
  for (let i = 0; i < 600; i++) {
    const log = await readFile(logPath, 'utf8').catch(() => '');
    const m = /listening on (\S+)/.exec(log);
    if (m) {
      if (m[1] !== addr) {
        info.addr = m[1]!;
        await writeFile(join(dir, 'container.json'), JSON.stringify(info, null, 2));
      }
      return { ...info, pid, running: true, dir };
    }
    if (exited) {
      const last = log.trim().split('\n').filter(Boolean).at(-1) ?? 'exited';
      await rm(dir, { recursive: true, force: true });
      throw new Error(`the registry did not start: ${last.replace(/^Error:\s*/, '')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(pid, 'SIGKILL');
  throw new Error(`the registry did not start within 30 s (log: ${logPath})`);
}

/** Stops a container (SIGTERM, SIGKILL after `graceMs`); removes its folder with --rm. */
export async function stopContainer(c: ContainerState, graceMs = 10_000): Promise<void> {
  if (c.running && c.pid !== undefined) {
    process.kill(c.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive(c.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (alive(c.pid)) {
      process.kill(c.pid, 'SIGKILL');
      while (alive(c.pid)) await new Promise((r) => setTimeout(r, 20));
      recordExit(c.dir, KILLED);
    }
  }
  await rm(join(c.dir, 'pid'), { force: true });
  if (c.autoRemove) await rm(c.dir, { recursive: true, force: true });
}

/** Removes a stopped container's folder (its storage too, unless it was a `-v` folder elsewhere). */
export async function removeContainer(c: ContainerState): Promise<void> {
  await rm(c.dir, { recursive: true, force: true });
}

/** The container's log so far. */
export function containerLog(c: ContainerState): Promise<string> {
  return readFile(join(c.dir, 'log'), 'utf8').catch(() => '');
}
