/**
 * The per-file setup the registry suites share: required tools checked, one registry started
 * in `beforeAll` (docker-registry, or the built-in one under the vitest project
 * `builtin-registry`: see {@link startRegistry}), optionally with something in front of it
 * (the fault proxy, nginx), both stopped in `afterAll` (front first). Values are read through
 * getters, since they exist only once `beforeAll` has run.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { requireTool } from './cli.js';
import type { FaultProxy } from './fault-proxy.js';
import { startFaultProxy } from './fault-proxy.js';
import type { Registry, RegistryOptions } from './registry.js';
import { startRegistry } from './registry.js';

/** Something started in front of the registry. */
export interface Front {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

/** Options of {@link useRegistry}. */
export interface RegistrySuiteOptions<F extends Front> {
  /** Tools checked with `requireTool` before anything starts (e.g. `['skopeo']`). */
  tools?: string[];
  /** Passed to {@link startRegistry}. */
  registry?: RegistryOptions;
  /** Starts the server in front of the registry. */
  front?: (reg: Registry) => Promise<F>;
  /** Which host image names use: the front's (the default when there is a front) or the registry's. */
  hostOf?: 'front' | 'registry';
}

/** The suite's servers, valid from `beforeAll` on. */
export interface RegistrySuite<F> {
  readonly reg: Registry;
  /** The front (throws when the suite has none). */
  readonly front: F;
  /** The host image names start with. */
  readonly host: string;
}

/** Registers `beforeAll`/`afterAll` that start and stop a registry (and its front) for this test file. */
export function useRegistry<F extends Front = Front>(opts: RegistrySuiteOptions<F> = {}): RegistrySuite<F> {
  let reg: Registry | undefined;
  let front: F | undefined;
  beforeAll(async () => {
    for (const tool of opts.tools ?? []) await requireTool(tool);
    reg = await startRegistry(opts.registry);
    if (opts.front) front = await opts.front(reg);
  });
  afterAll(async () => {
    await front?.stop();
    await reg?.stop();
  });
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`useRegistry: no ${what} (beforeAll has not run${what === 'front' ? ', or there is no front' : ''})`);
    return v;
  };
  return {
    get reg() {
      return need(reg, 'registry');
    },
    get front() {
      return need(front, 'front');
    },
    get host() {
      return opts.front && opts.hostOf !== 'registry' ? need(front, 'front').host : need(reg, 'registry').host;
    },
  };
}

/** The suite's registry behind a fault proxy. */
export interface RegistryWithProxy extends RegistrySuite<FaultProxy> {
  readonly proxy: FaultProxy;
}

/**
 * {@link useRegistry} with skopeo required and the fault proxy in front (image names go through
 * it unless `hostOf: 'registry'`); its rules and stats are reset before each test.
 */
export function useRegistryWithProxy(opts: { hostOf?: 'front' | 'registry' } = {}): RegistryWithProxy {
  const suite = useRegistry<FaultProxy>({ tools: ['skopeo'], front: (reg) => startFaultProxy(reg.host), hostOf: opts.hostOf });
  beforeEach(() => {
    suite.front.setRules({});
    suite.front.resetStats();
  });
  return Object.defineProperty(suite, 'proxy', { get: () => suite.front, enumerable: true }) as RegistryWithProxy;
}
