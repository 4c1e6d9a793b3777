/** What every command receives: the global options, resolved. */
import type { Command } from 'commander';
import { defaultRoot } from '../store/layout.js';
import { Store } from '../store/store.js';
import { errnoText } from '../text/errno.js';

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
let archiveOnStdout = false;

/** `write /dev/stdout: <why>`, the line a failed write to a standard stream is reported with. */
export function stdioWriteError(stream: 'stdout' | 'stderr', err: NodeJS.ErrnoException): string {
  return `write /dev/${stream}: ${errnoText(err)}`;
}

/**
 * Makes a closed stdout or stderr (`ts-docker images | head -1`) end the process quietly, as it
 * ends docker: a Go program dies of SIGPIPE there (status 141 in the shell, nothing printed).
 * Node ignores SIGPIPE and reports the failed write as an `EPIPE` error event on the stream,
 * which unhandled would crash with a stack trace. Any other failed write of text (`images >
 * /dev/full`: ENOSPC, EIO) is one line on stderr and exit 1. While an archive goes to stdout
 * ({@link archiveToStdout}) the command's own pipeline reports the failure, EPIPE included.
 */
export function exitQuietlyOnBrokenPipe(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // The archive's pipeline has its own listener: it rejects, and the command says what failed.
    if (archiveOnStdout) return;
    if (err.code === 'EPIPE') process.exit(BROKEN_PIPE_EXIT);
    process.stderr.write(`Error: ${stdioWriteError('stdout', err)}\n`, () => process.exit(1));
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    // Nowhere left to say it: the status is all there is (1 under an archive: a truncated one is a failure).
    process.exit(err.code === 'EPIPE' && !archiveOnStdout ? BROKEN_PIPE_EXIT : 1);
  });
}

/**
 * Marks stdout as carrying binary data (`save` without `-o`): a reader that goes away early
 * gets a truncated archive, which is a failure to report (one line, exit 1), not docker's quiet
 * SIGPIPE ending of text output.
 */
export function archiveToStdout(): void {
  archiveOnStdout = true;
}

/** Writes text to stdout (a reader that went away ends the process quietly: main sets up {@link exitQuietlyOnBrokenPipe}). */
export function out(text: string): void {
  process.stdout.write(text);
}
