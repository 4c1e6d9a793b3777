/**
 * The two parts of undici the transport uses, `Agent` and `request`, loaded from their own
 * modules. undici's index also loads fetch, WebSocket, EventSource, cookies, caches, mocks and
 * interceptors, which made up ~35 ms of every push's and pull's start (bench/README.md). undici
 * has no `exports` map, so these files are importable; package-lock pins the version and every
 * push/pull test runs through them.
 */
import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import AgentImpl from 'undici/lib/dispatcher/agent.js';
import requestImpl from 'undici/lib/api/api-request.js';

/** undici's Agent (a pool of connections per origin). */
export const Agent = AgentImpl as unknown as typeof UndiciAgent;
/** undici's Agent type. */
export type Agent = UndiciAgent;
/** undici's Agent option types. */
export declare namespace Agent {
  /** Options of `new Agent()`. */
  type Options = UndiciAgent.Options;
}

/** undici's `request(url, options)` with an explicit dispatcher: the same call its index makes. */
export function request(url: string, opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher }): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  const { dispatcher, ...rest } = opts;
  return requestImpl.call(dispatcher, {
    ...rest,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: rest.method ?? (rest.body ? 'PUT' : 'GET'),
  });
}
