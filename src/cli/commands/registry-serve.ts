/** `ts-docker registry serve`: the built-in registry in the foreground, one log line per request. */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { parseAddr, startRegistryServer } from '../../server/index.js';
import { out } from '../context.js';

/** The registry's default storage folder (beside the image store, never inside it). */
export function defaultRegistryRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'ts-docker-registry');
}

/** What the foreground server needs. */
export interface ServeOptions {
  addr: string;
  root: string;
  chunkMinLength?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

/** Serves until SIGINT/SIGTERM (shared by `registry serve` and `run registry` without -d). */
export async function serveForeground(opts: ServeOptions): Promise<void> {
  let addr: { host: string; port: number };
  try {
    addr = parseAddr(opts.addr);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  const chunkMinLength = opts.chunkMinLength === undefined ? undefined : Number(opts.chunkMinLength);
  if (chunkMinLength !== undefined && !(Number.isInteger(chunkMinLength) && chunkMinLength > 0)) {
    throw new InvalidArgumentError(`invalid --chunk-min-length ${opts.chunkMinLength}`);
  }
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  const tls = opts.tlsCert && opts.tlsKey ? { cert: await readFile(opts.tlsCert), key: await readFile(opts.tlsKey) } : undefined;
  const root = resolve(opts.root);
  const srv = await startRegistryServer({ ...addr, root, chunkMinLength, tls, log: (line) => out(`${line}\n`) });
  const shown = srv.host.includes(':') ? `[${srv.host}]` : srv.host;
  out(`ts-docker registry listening on ${shown}:${srv.port} (${tls ? 'https' : 'http'}, storage ${root})\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void srv.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Runs `registry serve`. */
export default async function run(cmd: Command): Promise<void> {
  const opts = cmd.opts<{ addr: string; root?: string; chunkMinLength?: string; tlsCert?: string; tlsKey?: string }>();
  // `--root` after `registry serve` is parsed by the program's global `--root` too: here it names the registry's storage.
  const root = opts.root ?? cmd.optsWithGlobals<{ root?: string }>().root ?? defaultRegistryRoot();
  await serveForeground({ ...opts, root });
}
