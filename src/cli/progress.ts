/**
 * Renders copy events: `plain` (docker's status lines, no escape codes), `tty` (live per-layer
 * bars, ora while nothing has happened yet), or `json` (one NDJSON event per line, for CI).
 */
import type { Ora } from 'ora';
import type { CopyEvent } from '../copy/events.js';
import { escapeControl } from '../text/escape.js';
import { secondsText } from '../transport/retry.js';
import { humanSize } from './format/humanize.js';

/** The progress modes of `--progress`. */
export type ProgressMode = 'plain' | 'tty' | 'json' | 'quiet';

/** Something that takes events and can be closed. */
export interface Renderer {
  event(e: CopyEvent): void;
  close(): void;
}

function retryLine(e: Extract<CopyEvent, { type: 'retry' }>): string {
  return `${e.id ? `${e.id}: ` : ''}Retrying in ${secondsText(e.delayMs)}: ${escapeControl(e.reason)}`;
}

// Messages, statuses and retry reasons may quote the network (a registry's error, a status
// text): control characters are escaped before they reach the terminal. JSON mode needs
// nothing: JSON.stringify escapes them.
function line(e: CopyEvent): string | undefined {
  switch (e.type) {
    case 'message': return escapeControl(e.text);
    case 'status': return e.status === 'Waiting' ? undefined : `${e.id}: ${escapeControl(e.status)}`;
    case 'retry': return retryLine(e);
    case 'digest': return `${e.tag}: digest: ${e.digest} size: ${e.size}`;
    default: return undefined;
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

  constructor(private readonly out: NodeJS.WriteStream, private readonly spinner: Ora | undefined) {}

  event(e: CopyEvent): void {
    this.spinner?.stop();
    if (e.type === 'status' || e.type === 'progress') {
      if (!this.lines.has(e.id)) this.order.push(e.id);
      this.lines.set(e.id, e.type === 'status' ? `${e.id}: ${escapeControl(e.status)}` : `${e.id}: ${escapeControl(e.action)} ${bar(e.current, e.total)}`);
      this.timer ??= setTimeout(() => this.draw(), 100);
      return;
    }
    const text = line(e);
    if (text === undefined) return;
    if (e.type === 'retry') {
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

/** Picks a renderer: `tty` needs a terminal, else `plain` is used. */
export async function createRenderer(mode: ProgressMode | undefined, phase: string): Promise<Renderer> {
  const out = process.stdout;
  const chosen = mode ?? (out.isTTY ? 'tty' : 'plain');
  if (chosen === 'quiet') return { event: () => undefined, close: () => undefined };
  if (chosen === 'json') return { event: (e) => out.write(`${JSON.stringify(e)}\n`), close: () => undefined };
  // A terminal that reports no width (script(1) without a size) would make ora's line
  // arithmetic loop forever: treat it as plain.
  if (chosen === 'tty' && out.isTTY && (out.columns ?? 0) > 0) {
    const { default: ora } = await import('ora');
    const spinner = process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 ? ora({ text: phase, stream: process.stderr, discardStdin: false }).start() : undefined;
    return new TtyRenderer(out, spinner);
  }
  return {
    event: (e) => {
      const text = line(e);
      if (text !== undefined) out.write(`${text}\n`);
    },
    close: () => undefined,
  };
}
