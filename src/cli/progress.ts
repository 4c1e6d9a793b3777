/**
 * Renders copy events: `plain` (docker's status lines, no escape codes), `tty` (live per-layer
 * bars, ora while nothing has happened yet), or `json` (one NDJSON event per line, for CI).
 */
import type { Ora } from 'ora';
import type { CopyEvent } from '../image/progress.js';
import { escapeControl } from '../text/escape.js';
import { humanSize } from './format/humanize.js';

/** The progress modes of `--progress`. */
export type ProgressMode = 'plain' | 'tty' | 'json' | 'quiet';

/** Something that takes events and can be closed. */
export interface Renderer {
  event(e: CopyEvent): void;
  close(): void;
}

/** What the copy is, for the words of its states. */
export type Direction = 'push' | 'pull' | 'copy';

/** docker's words for a blob's states, per direction (`copy` speaks as pull does, with Copying). */
const WORDS: Record<Direction, { exists: string; transferring: string; done: string }> = {
  push: { exists: 'Layer already exists', transferring: 'Pushing', done: 'Pushed' },
  pull: { exists: 'Already exists', transferring: 'Downloading', done: 'Pull complete' },
  copy: { exists: 'Already exists', transferring: 'Copying', done: 'Copied' },
};

function plural(n: number): string {
  return n === 1 ? '1 second' : `${n} seconds`;
}

/** A blob's state in docker's words (without the bar), or undefined for `waiting` in plain output. */
function blobWords(e: Extract<CopyEvent, { type: 'blob' }>, dir: Direction): string {
  switch (e.state) {
    case 'waiting': return 'Waiting';
    case 'exists': return WORDS[dir].exists;
    case 'mounted': return `Mounted from ${escapeControl(e.from)}`;
    case 'transferring': return WORDS[dir].transferring;
    case 'done': return WORDS[dir].done;
  }
}

// Reasons and repository names may quote the network (a registry's error, a status text):
// control characters are escaped before they reach the terminal. JSON mode needs nothing:
// JSON.stringify escapes them.
function lines(e: CopyEvent, dir: Direction): string[] {
  switch (e.type) {
    case 'blob': return e.state === 'waiting' || e.state === 'transferring' ? [] : [`${e.id}: ${blobWords(e, dir)}`];
    case 'retrying': return [`${e.id ? `${e.id}: ` : ''}Retrying in ${plural(e.inSeconds)}: ${escapeControl(e.reason)}`];
    case 'restarted': return [`${e.id}: ${escapeControl(e.reason)}`];
    case 'push-start': return [`The push refers to repository [${e.repository}]`];
    case 'pull-start': return [`${e.ref}: Pulling from ${e.repository}`];
    case 'pushed': return [`${e.tag}: digest: ${e.digest} size: ${e.size}`];
    case 'pulled': return [`Digest: ${e.digest}`, `Status: ${e.changed ? 'Downloaded newer image' : 'Image is up to date'} for ${e.reference}`];
    case 'copied': return [e.upToDate ? `${e.destination}: up to date (${e.digest})` : `Copied ${e.source} to ${e.destination}`, ...(e.upToDate ? [] : [`Digest: ${e.digest}`])];
  }
}

function bar(current: number, total: number): string {
  const width = 50;
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  const arrow = filled < width ? '>' : '';
  return `[${'='.repeat(filled)}${arrow}${' '.repeat(Math.max(0, width - filled - arrow.length))}]  ${humanSize(current)}/${humanSize(total)}`;
}

class TtyRenderer implements Renderer {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WriteStream, private readonly spinner: Ora | undefined, private readonly dir: Direction) {}

  event(e: CopyEvent): void {
    this.spinner?.stop();
    if (e.type === 'blob') {
      if (!this.lines.has(e.id)) this.order.push(e.id);
      const words = blobWords(e, this.dir);
      this.lines.set(e.id, e.state === 'transferring' ? `${e.id}: ${words} ${bar(e.current, e.total)}` : `${e.id}: ${words}`);
      this.timer ??= setTimeout(() => this.draw(), 100);
      return;
    }
    const all = lines(e, this.dir);
    if (all.length === 0) return;
    const text = all.join('\n');
    if (e.type === 'retrying') {
      // A retry is news in the middle of the transfer: print it above the live block.
      this.clear();
      this.out.write(`${text}\n`);
      this.draw();
      return;
    }
    // Any other line ends the current block (the layers are done): leave it on screen as it is.
    this.draw();
    this.order.length = 0;
    this.lines.clear();
    this.drawn = 0;
    this.out.write(`${text}\n`);
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
    for (const id of this.order) this.out.write(`\x1b[2K${this.lines.get(id)}\n`);
    this.drawn = this.order.length;
  }

  close(): void {
    this.spinner?.stop();
    this.draw();
  }
}

/** The spinner's word before the first event. */
const PHASE: Record<Direction, string> = { push: 'Preparing', pull: 'Resolving', copy: 'Resolving' };

/** Picks a renderer: `tty` needs a terminal, else `plain` is used. */
export async function createRenderer(mode: ProgressMode | undefined, dir: Direction): Promise<Renderer> {
  const phase = PHASE[dir];
  const out = process.stdout;
  const chosen = mode ?? (out.isTTY ? 'tty' : 'plain');
  if (chosen === 'quiet') return { event: () => undefined, close: () => undefined };
  if (chosen === 'json') return { event: (e) => out.write(`${JSON.stringify(e)}\n`), close: () => undefined };
  // A terminal that reports no width (script(1) without a size) would make ora's line
  // arithmetic loop forever: treat it as plain.
  if (chosen === 'tty' && out.isTTY && (out.columns ?? 0) > 0) {
    const { default: ora } = await import('ora');
    const spinner = process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 ? ora({ text: phase, stream: process.stderr, discardStdin: false }).start() : undefined;
    return new TtyRenderer(out, spinner, dir);
  }
  return {
    event: (e) => {
      for (const text of lines(e, dir)) out.write(`${text}\n`);
    },
    close: () => undefined,
  };
}
