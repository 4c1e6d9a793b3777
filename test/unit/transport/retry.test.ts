import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestMismatchError, InvalidContentError, TsDockerError } from '../../../src/errors.js';
import { NetworkError } from '../../../src/transport/errors.js';
import {
  DEFAULT_RETRY, Retrier, backoffMs, classifyFailure, failureReason, isRetryableStatus, retryAfterMs, retryable, secondsText, withRetries,
} from '../../../src/transport/retry.js';
import { watchStall } from '../../../src/transport/stall.js';
import { Transport } from '../../../src/transport/transport.js';
import { nextOffset } from '../../../src/registry/client.js';
import { registryError } from '../../../src/registry/errors.js';
import { parseSize, timeoutSettings } from '../../../src/config/settings.js';
import { isLoopbackHost, schemeFor } from '../../../src/transport/scheme.js';

it('retries 429 and 5xx but not 4xx or 501', () => {
  expect([429, 500, 502, 503, 504, 408].map(isRetryableStatus)).toEqual([true, true, true, true, true, true]);
  expect([400, 401, 404, 413, 416, 501].map(isRetryableStatus)).toEqual([false, false, false, false, false, false]);
});

it('honours Retry-After in seconds and as a date, and caps waits', () => {
  expect(retryAfterMs('3')).toBe(3000);
  expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
  expect(retryAfterMs('soon')).toBeUndefined();
  expect(backoffMs(DEFAULT_RETRY, 1)).toBe(1000);
  expect(backoffMs(DEFAULT_RETRY, 3)).toBe(4000);
  expect(backoffMs(DEFAULT_RETRY, 20)).toBe(DEFAULT_RETRY.maxDelayMs);
  expect(backoffMs(DEFAULT_RETRY, 1, 2000)).toBe(2000);
  expect([secondsText(1000), secondsText(2000)]).toEqual(['1 second', '2 seconds']);
});

it('reads upload offsets from Range', () => {
  expect(nextOffset('0-1048575')).toBe(1048576);
  expect(nextOffset('bytes=0-9')).toBe(10);
  expect(nextOffset(undefined)).toBeUndefined();
  expect(nextOffset('5-9')).toBeUndefined();
});

it('parses chunk sizes', () => {
  expect([parseSize('512k'), parseSize('16m'), parseSize('1048576'), parseSize(42), parseSize('1.5MiB')]).toEqual([524288, 16777216, 1048576, 42, 1572864]);
  expect(() => parseSize('lots')).toThrow(/invalid size "lots"/);
  expect(() => parseSize('0')).toThrow();
});

it('speaks plain HTTP to loopback registries only, unless configured', () => {
  expect(['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
  expect(['zoozoo.coomm', '10.0.0.1:5000', 'localhost.example.com'].map(isLoopbackHost)).toEqual([false, false, false]);
  expect(schemeFor('zoozoo.coomm')).toBe('https');
  expect(schemeFor('zoozoo.coomm:5000', ['zoozoo.coomm:5000'])).toBe('http');
});

describe('the one retry policy', () => {
  const sysErr = (code: string, syscall = 'write'): Error => Object.assign(new Error(`${code}: boom, ${syscall}`), { code, syscall });
  const net = (code: string): NetworkError => new NetworkError('x', 'http://h/v2/', { cause: sysErr(code, 'connect') });

  it('classifies: network errors and 408/429/5xx retried; refused/DNS at first contact, disk errors, our typed errors not', () => {
    expect(classifyFailure(net('ECONNRESET'))).toBe('transient');
    expect(classifyFailure(net('ECONNREFUSED'))).toBe('transient');
    expect(classifyFailure(net('ECONNREFUSED'), { firstContact: true })).toBe('final');
    expect(classifyFailure(net('ENOTFOUND'), { firstContact: true })).toBe('final');
    expect(classifyFailure(net('EAI_AGAIN'), { firstContact: true })).toBe('final');
    expect(classifyFailure(net('ECONNRESET'), { firstContact: true })).toBe('transient');
    expect(classifyFailure(new NetworkError('stalled: no data from h for 30 s', 'http://h/', { timeout: true }))).toBe('timeout');
    expect(classifyFailure(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))).toBe('transient');
    expect(classifyFailure(new Error('terminated'))).toBe('transient');
    expect(classifyFailure(new NetworkError('x', 'http://h/', { cause: Object.assign(new Error('Expected HTTP/'), { code: 'HPE_INVALID_CONSTANT' }) }))).toBe('final');
    expect(classifyFailure(new NetworkError('x', 'http://h/', { cause: Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), { name: 'HTTPParserError' }) }))).toBe('final');
    for (const code of ['ENOSPC', 'EROFS', 'EACCES', 'EDQUOT', 'EPERM', 'EMFILE']) expect(classifyFailure(sysErr(code)), code).toBe('final');
    expect(classifyFailure(new DigestMismatchError('bad'))).toBe('final');
    expect(classifyFailure(new InvalidContentError('bad'))).toBe('final');
    expect(classifyFailure(new TypeError('x is not a function'))).toBe('final');
    expect(classifyFailure(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe('final');
    const status = (n: number): TsDockerError => Object.assign(new TsDockerError('HTTP', `answered ${n}`), { status: n });
    expect(classifyFailure(status(503))).toBe('transient');
    expect(classifyFailure(status(503), { statuses: false })).toBe('final');
    expect(classifyFailure(status(404))).toBe('final');
    expect([503, 429, 408, 404, 501].map((s) => retryable(s))).toEqual([true, true, true, false, false]);
    expect(failureReason(net('ECONNRESET'))).toBe('x');
    expect(failureReason(sysErr('ECONNRESET', 'read'))).toBe('connection reset by peer');
  });

  it('counts: `retries` in all, of them `timeoutRetries` after timeouts; an error a loop gave up on is final for the loops around it', async () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 1 };
    const events: number[] = [];
    let calls = 0;
    await expect(withRetries(policy, 'u', async () => {
      calls++;
      throw net('ECONNRESET');
    }, { onRetry: (e) => events.push(e.attempt) })).rejects.toThrow(NetworkError);
    expect([calls, events]).toEqual([5, [1, 2, 3, 4]]);

    calls = 0;
    const timeout = new NetworkError('timed out', 'http://h/', { timeout: true });
    await expect(withRetries(policy, 'u', async () => {
      calls++;
      throw timeout;
    })).rejects.toBe(timeout);
    expect(calls).toBe(2);
    // An outer loop (a download around a request) does not retry what the inner one gave up on.
    const outer = new Retrier(policy);
    await expect(outer.failed(timeout, 'u')).rejects.toBe(timeout);
    expect(outer.attempts).toBe(0);

    calls = 0;
    await expect(withRetries(policy, 'u', async () => {
      calls++;
      throw sysErr('ENOSPC');
    })).rejects.toThrow(/ENOSPC/);
    expect(calls).toBe(1);
  });

  it('waits what a registry error answer asks for (Retry-After on a 503), in every loop', async () => {
    const res = {
      status: 503, url: 'http://h/v2/x/blobs/uploads/1', headers: { 'retry-after': '2', 'content-type': 'application/json' },
      body: Readable.from([Buffer.from('{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}')]),
    };
    const err = await registryError(res as unknown as Parameters<typeof registryError>[0], 'blob upload');
    expect(err.retryAfterMs).toBe(2000);
    const waits: number[] = [];
    const r = new Retrier({ ...DEFAULT_RETRY, baseDelayMs: 1, maxDelayMs: 5 }, { onRetry: (e) => waits.push(e.delayMs) });
    await r.failed(err, 'u');
    // The policy's longest wait still bounds it (maxDelayMs 5 here).
    expect(waits).toEqual([5]);
    const free = new Retrier({ ...DEFAULT_RETRY, baseDelayMs: 1 }, { onRetry: (e) => waits.push(e.delayMs) });
    const quick = Object.assign(err, { retryAfterMs: 30 });
    await free.failed(quick, 'u');
    expect(waits).toEqual([5, 30]);
  });
});

describe('the transport with the policy and its timeouts', () => {
  let server: Server;
  let base: string;
  let mode: 'silent' | 'busy' | 'drip' | 'ok' = 'ok';
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      if (mode === 'silent') return;
      if (mode === 'busy') return void res.writeHead(503, { 'retry-after': '0' }).end();
      if (mode === 'drip') {
        res.writeHead(200, { 'content-length': 100 });
        const t = setInterval(() => res.write('x'), 50);
        res.on('close', () => clearInterval(t));
        return;
      }
      res.writeHead(200, { 'content-length': 2 }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const make = (): Transport => new Transport({ retry: { baseDelayMs: 1 }, headersTimeoutMs: 200, stallTimeoutMs: 300, certsDirs: [] });

  it('a server that never answers: a headers timeout, retried once, naming the host', async () => {
    mode = 'silent';
    hits = 0;
    const t = make();
    const t0 = Date.now();
    await expect(t.fetch({ method: 'GET', url: `${base}/v2/` })).rejects.toThrow(/^timed out: no response from 127\.0\.0\.1:\d+ in 0\.2 s/);
    expect(hits).toBe(2);
    // undici runs its headers timeout on a coarse timer (about 1 s of slack each).
    expect(Date.now() - t0).toBeLessThan(4000);
    await t.close();
  });

  it('503s are retried `retries` times, then returned', async () => {
    mode = 'busy';
    hits = 0;
    const t = make();
    const res = await t.fetch({ method: 'GET', url: `${base}/v2/` });
    expect(res.status).toBe(503);
    await res.body.dump();
    expect(hits).toBe(5);
    await t.close();
  });

  it('a body dripping below 1 KiB per window ends with "stalled"', async () => {
    mode = 'drip';
    const t = make();
    const res = await t.fetch({ method: 'GET', url: `${base}/v2/` });
    await expect(res.body.text()).rejects.toThrow(/^stalled: only \d+ bytes from 127\.0\.0\.1:\d+ in 0\.3 s/);
    await t.close();
  });

  it('a refused connection at first contact fails at once; later it is retried', async () => {
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v2/`;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const retries: string[] = [];
    const t = new Transport({ retry: { baseDelayMs: 1 }, certsDirs: [], onRetry: (e) => retries.push(e.reason) });
    await expect(t.fetch({ method: 'GET', url, firstContact: true })).rejects.toThrow(/connection refused/);
    expect(retries).toEqual([]);
    await expect(t.fetch({ method: 'GET', url })).rejects.toThrow(/connection refused/);
    expect(retries).toHaveLength(4);
    await t.close();
  });
});

describe('the stall watchdog', () => {
  it('leaves a body alone while its bytes wait unread (the reader is the slow one)', async () => {
    const body = new Readable({ read() {} });
    watchStall(body, 100, 'http://h:1/x');
    body.push(Buffer.from('held'));
    await sleep(300);
    expect(body.destroyed).toBe(false);
    body.push(null);
    body.resume();
  });

  it('ends a silent body with "stalled: no data from HOST for N s"', async () => {
    const body = new Readable({ read() {} });
    watchStall(body, 100, 'http://h:1/x');
    const err = await new Promise<Error>((resolve) => body.on('error', resolve));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toBe('stalled: no data from h:1 for 0.1 s (http://h:1/x)');
  });
});

it('reads the timeout settings (seconds; env wins; 0 is no limit)', () => {
  expect(timeoutSettings({}, {})).toEqual({});
  expect(timeoutSettings({ headersTimeout: 90, stallTimeout: '2.5' }, {})).toEqual({ headersTimeoutMs: 90_000, stallTimeoutMs: 2500 });
  expect(timeoutSettings({ headersTimeout: 90 }, { TS_DOCKER_HEADERS_TIMEOUT: '0', TS_DOCKER_STALL_TIMEOUT: '1' })).toEqual({ headersTimeoutMs: 0, stallTimeoutMs: 1000 });
  expect(() => timeoutSettings({}, { TS_DOCKER_STALL_TIMEOUT: '-1' })).toThrow(/invalid TS_DOCKER_STALL_TIMEOUT "-1"/);
  expect(() => timeoutSettings({ headersTimeout: 'soon' }, {})).toThrow(/invalid headersTimeout setting "soon"/);
});
