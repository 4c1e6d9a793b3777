/**
 * `ts-docker run [-d] [-p [IP:]HOST:5000] [-v DIR:/var/lib/registry] [--name N] [--rm] registry`:
 * ts-docker runs no containers; the one image it "runs" is `registry`, as its own built-in
 * registry server. Any other image gets a clear error.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { startDetached } from '../../server/containers.js';
import { globalsOf, out } from '../context.js';
import { serveForeground } from './registry-serve.js';

interface Opts {
  detach?: boolean;
  publish?: string[];
  volume?: string[];
  name?: string;
  rm?: boolean;
}

/** The port the registry image listens on inside its container. */
const REGISTRY_PORT = 5000;

/** True for `registry`, `registry:2`, `library/registry`, `docker.io/library/registry:latest`... */
export function isRegistryImage(image: string): boolean {
  return /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?(?:library\/)?registry(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.test(image);
}

/** `-p [IP:]HOST:CONTAINER[/tcp]` (or just `CONTAINER`, a free host port) -> where to listen. */
export function parsePublish(spec: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[\d.]+|localhost):)?(?:(\d*):)?(\d+)(?:\/tcp)?$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`invalid publish spec ${spec}: expected [IP:]HOST_PORT:${REGISTRY_PORT}`);
  if (Number(m[3]) !== REGISTRY_PORT) {
    throw new InvalidArgumentError(`the registry listens on port ${REGISTRY_PORT} in its container: use -p HOST_PORT:${REGISTRY_PORT} (got ${spec})`);
  }
  // docker publishes on 0.0.0.0 by default; ts-docker's registry has no auth by default, so it
  // listens on loopback unless an address is given (-p 0.0.0.0:5000:5000).
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '').replace(/^localhost$/, '127.0.0.1');
  return { host, port: m[2] ? Number(m[2]) : 0 };
}

/** `-v DIR:/var/lib/registry[:rw]` -> DIR. */
function parseVolume(spec: string): string {
  const m = /^(.+):\/var\/lib\/registry\/?(?::rw)?$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`invalid volume ${spec}: ts-docker's registry takes only -v DIR:/var/lib/registry`);
  return resolve(m[1]!);
}

/** Runs `run`. */
export default async function run(cmd: Command, image: string, command: string[] = []): Promise<void> {
  const opts = cmd.opts<Opts>();
  if (!isRegistryImage(image)) {
    throw new InvalidArgumentError(
      `ts-docker runs no containers: it can only "run" the registry image, as its built-in registry (ts-docker run -d -p 5000:5000 registry); use docker or podman to run ${image}`,
    );
  }
  if (command.length > 0) throw new InvalidArgumentError(`ts-docker's registry takes no command (got ${command.join(' ')})`);
  if ((opts.publish ?? []).length > 1) throw new InvalidArgumentError('ts-docker\'s registry publishes one port: give -p once');
  const listen = opts.publish?.[0] ? parsePublish(opts.publish[0]) : { host: '127.0.0.1', port: 0 };
  if ((opts.volume ?? []).length > 1) throw new InvalidArgumentError('ts-docker\'s registry takes one volume: -v DIR:/var/lib/registry');
  const storage = opts.volume?.[0] ? parseVolume(opts.volume[0]) : undefined;
  const storeRoot = globalsOf(cmd).root;
  if (!opts.detach) {
    await serveForeground({ addr: `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`, root: storage ?? resolve(storeRoot, 'containers', 'foreground-registry') });
    return;
  }
  const bin = fileURLToPath(new URL('../../../bin/ts-docker.js', import.meta.url));
  const c = await startDetached({ storeRoot, bin, image, ...listen, publish: opts.publish?.[0], storage, name: opts.name, autoRemove: !!opts.rm, serveArgs: [] });
  out(`${c.id}\n`);
}
