/**
 * Who a process is, beyond its pid: a pid is reused once its process is gone, so a lock or temp
 * file naming only a pid may point at an unrelated live process. Linux's `/proc/<pid>/stat` field
 * 22 (start time in clock ticks since boot) and `/proc/sys/kernel/random/boot_id` tell one
 * process apart from a later one with the same pid; where /proc is absent, only liveness is known.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** A process as recorded in a lock file. */
export interface OwnerRecord {
  pid: number;
  /** Start time in clock ticks since boot (`/proc/<pid>/stat` field 22); '' where unknown. */
  start: string;
  /** First 8 hex digits of the boot id; '' where unknown. */
  boot: string;
  /** 8 hex digits, unique per acquisition. */
  token: string;
  /** 8 hex digits of a hash of the host name. */
  host: string;
}

/** Linux reports times in /proc in USER_HZ ticks, 100 a second on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether process `pid` exists (one owned by another user counts: signalling it is merely not allowed). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of `/proc/<pid>/stat` (start time, clock ticks since boot), or undefined without /proc or process. */
export function startTicks(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 (the command name) is in parentheses and may hold spaces or ')': split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const v = fields[22 - 3];
  return v && /^\d+$/.test(v) ? v : undefined;
}

let bootCache: string | undefined;
/** First 8 hex digits of this boot's id, '' where unknown. */
export function bootId(): string {
  bootCache ??= (readText('/proc/sys/kernel/random/boot_id') ?? '').replace(/[^0-9a-f]/g, '').slice(0, 8);
  return bootCache;
}

let hostCache: string | undefined;
/** 8 hex digits naming this host (a store on a network filesystem may be shared). */
export function hostTag(): string {
  hostCache ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
  return hostCache;
}

let btimeCache: number | null | undefined;
/** Boot time in ms since the epoch (`btime` of /proc/stat), or undefined. */
function bootTimeMs(): number | undefined {
  if (btimeCache === undefined) {
    const m = /^btime (\d+)$/m.exec(readText('/proc/stat') ?? '');
    btimeCache = m ? Number(m[1]) * 1000 : null;
  }
  return btimeCache ?? undefined;
}

/** When process `pid` started, in ms since the epoch (to about 10 ms, and btime's 1 s), or undefined. */
export function processStartMs(pid: number): number | undefined {
  const ticks = startTicks(pid);
  const btime = bootTimeMs();
  if (ticks === undefined || btime === undefined) return undefined;
  return btime + (Number(ticks) * 1000) / TICKS_PER_SECOND;
}

let selfStart: string | undefined;
/** A fresh owner record for this process. */
export function ownRecord(): OwnerRecord {
  selfStart ??= startTicks(process.pid) ?? '';
  return { pid: process.pid, start: selfStart, boot: bootId(), token: randomBytes(4).toString('hex'), host: hostTag() };
}

/** The record as lock text: `tsd1:PID:START:BOOT:TOKEN:HOST` (short: a symlink target kept in the inode). */
export function formatRecord(r: OwnerRecord): string {
  return `tsd1:${r.pid}:${r.start}:${r.boot}:${r.token}:${r.host}`;
}

/** Parses {@link formatRecord}'s text, or undefined. */
export function parseRecord(text: string): OwnerRecord | undefined {
  const m = /^tsd1:(\d+):(\d*):([0-9a-f]*):([0-9a-f]+):([0-9a-f]*)$/.exec(text.trim());
  if (!m) return undefined;
  return { pid: Number(m[1]), start: m[2]!, boot: m[3]!, token: m[4]!, host: m[5]! };
}

/**
 * Whether the process a record names still runs: 'dead' when it is gone, its pid now belongs to
 * a process started later (start time differs) or the machine has rebooted since; 'elsewhere'
 * when it ran on another host (nothing can be told: it is respected); else 'alive'.
 */
export function recordState(r: OwnerRecord): 'alive' | 'dead' | 'elsewhere' {
  if (r.host && r.host !== hostTag()) return 'elsewhere';
  if (r.boot && bootId() && r.boot !== bootId()) return 'dead';
  if (!processAlive(r.pid)) return 'dead';
  if (r.start) {
    const now = startTicks(r.pid);
    if (now !== undefined && now !== r.start) return 'dead';
  }
  return 'alive';
}

/**
 * Whether a file written by process `pid`, last modified at `mtimeMs`, belongs to no running
 * process: the pid is dead, or the process now holding it started after the file was written (a
 * reused pid). Without /proc, a live pid's file counts as abandoned once `fallbackAgeMs` old.
 */
export function writerGone(pid: number, mtimeMs: number, fallbackAgeMs = 3_600_000): boolean {
  if (!processAlive(pid)) return true;
  const started = processStartMs(pid);
  // 2 s of slack: btime has whole seconds and ticks are 10 ms.
  if (started !== undefined) return started > mtimeMs + 2_000;
  return Date.now() - mtimeMs > fallbackAgeMs;
}

/** A line describing process `pid` for an error message: its command line where /proc has it. */
export function describeProcess(pid: number): string {
  const cmd = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
  const started = processStartMs(pid);
  const parts = [`pid ${pid}`];
  if (cmd) parts.push(`(${cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd})`);
  if (started !== undefined) parts.push(`running since ${new Date(started).toISOString().replace(/\.\d+Z$/, 'Z')}`);
  return parts.join(' ');
}
