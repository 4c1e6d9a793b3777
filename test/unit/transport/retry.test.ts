import { expect, it } from 'vitest';
import { DEFAULT_RETRY, backoffMs, isRetryableStatus, retryAfterMs, secondsText } from '../../../src/transport/retry.js';
import { nextOffset } from '../../../src/registry/client.js';
import { parseSize } from '../../../src/config/settings.js';
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
