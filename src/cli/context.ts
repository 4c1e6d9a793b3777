/** What every command receives: the global options, resolved. */
import type { Command } from 'commander';
import { defaultRoot } from '../store/layout.js';
import { Store } from '../store/store.js';

/** Global options after resolution. */
export interface Globals {
  root: string;
  config: string | undefined;
  debug: boolean;
}

/** Reads the global options (`--root`, `--config`, `--debug`) from the root program. */
export function globalsOf(cmd: Command): Globals {
  const opts = cmd.optsWithGlobals<{ root?: string; config?: string; debug?: boolean }>();
  return { root: opts.root ?? defaultRoot(), config: opts.config ?? process.env['TS_DOCKER_CONFIG'], debug: !!opts.debug };
}

/** Opens the store the global options name. */
export function openStore(cmd: Command): Promise<Store> {
  return Store.open(globalsOf(cmd).root);
}

/** Exit status of a process that wrote into a closed pipe: 128 + SIGPIPE, what a shell shows for docker. */
export const BROKEN_PIPE_EXIT = 141;

let guarded = false;

/**
 * Makes a closed stdout or stderr (`ts-docker images | head -1`) end the process quietly, as it
 * ends docker: a Go program dies of SIGPIPE there (status 141 in the shell, nothing printed).
 * Node ignores SIGPIPE and reports the failed write as an `EPIPE` error event on the stream,
 * which unhandled would crash with a stack trace. Other write errors are left alone.
 */
export function exitQuietlyOnBrokenPipe(): void {
  if (guarded) return;
  guarded = true;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') process.exit(BROKEN_PIPE_EXIT);
    throw err;
  };
  process.stdout.on('error', onError);
  process.stderr.on('error', onError);
}

/** Writes text to stdout (a reader that went away ends the process quietly: main sets up {@link exitQuietlyOnBrokenPipe}). */
export function out(text: string): void {
  process.stdout.write(text);
}
