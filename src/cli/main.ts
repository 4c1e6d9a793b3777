/** The CLI's entry and its one error funnel: every failure becomes one line on stderr and an exit code. */
import { CommanderError } from 'commander';
import { escapeControl } from '../text/escape.js';
import { exitQuietlyOnBrokenPipe } from './context.js';
import { buildProgram } from './program.js';

/**
 * Formats an error as the one line the user sees. Control characters are escaped here too, as
 * a last defence: a message may quote text that came from the network (a registry's error, a
 * header), and names and tags cannot hold control characters (the reference grammar), so
 * escaping the whole line changes nothing else.
 */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return `Error: ${escapeControl(message.split('\n')[0] ?? '')}`;
}

/** Reports an error on stderr (stack only with --debug) and returns its exit code. */
export async function reportError(err: unknown, debug: boolean): Promise<number> {
  // Colour only where chalk's detection allows it (TTY, FORCE_COLOR; NO_COLOR via main). chalk is loaded
  // here, on the way out of a failure, so that a command that succeeds never pays for it.
  const { chalkStderr } = await import('chalk');
  process.stderr.write(`${errorLine(err).replace(/^Error:/, chalkStderr.red('Error:'))}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack.split('\n').map(escapeControl).join('\n')}\n`);
  const code = (err as { exitCode?: unknown }).exitCode;
  return typeof code === 'number' && code > 0 ? code : 1;
}

/**
 * NO_COLOR (no-color.org: set and not empty) turns colour off, as it does for docker. chalk and ora
 * read only FORCE_COLOR, so it is translated before either is loaded; an explicit FORCE_COLOR wins.
 */
function honourNoColor(): void {
  if (process.env['NO_COLOR'] && process.env['FORCE_COLOR'] === undefined) process.env['FORCE_COLOR'] = '0';
}

/** Runs the CLI with `argv` (as `process.argv`) and sets the process exit code. */
export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnBrokenPipe();
  honourNoColor();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its own message (or help/version).
      process.exitCode = err.exitCode;
      return;
    }
    process.exitCode = await reportError(err, argv.includes('--debug') || process.env['TS_DOCKER_DEBUG'] === '1');
  }
}
