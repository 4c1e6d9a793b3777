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

/** Writes text to stdout. */
export function out(text: string): void {
  process.stdout.write(text);
}
