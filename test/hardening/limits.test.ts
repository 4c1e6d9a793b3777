/**
 * Issue 12 item 9: bodies read whole into memory are bounded (transport/limits.ts): manifests
 * 4 MiB, token-service answers and error bodies 1 MiB. A hostile registry streams 1 GiB lazily
 * (generated on the fly, with back-pressure), with and without Content-Length. Every case: one
 * line on stderr, exit 1, the store byte for byte unchanged, the download aborted early (the
 * server sent a small part of the GiB), and the CLI's peak RSS (VmHWM, polled from /proc while
 * it runs) under 200 MiB.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../helpers/cli.js';
import { expectOneLineError, importDir, makeRoot, snapshotTree } from '../helpers/cli.js';
import type { Hostile } from '../helpers/hostile-registry.js';
import { hasRawControl, startHostile } from '../helpers/hostile-registry.js';
import { runMeasured } from '../helpers/remote-cli.js';
import { TooLargeError, readLimited } from '../../src/transport/limits.js';

const GiB = 1024 * 1024 * 1024;
const RSS_LIMIT_KB = 200 * 1024;

/** `total` bytes of `fill`, made as they are read; `sent()` says how many left so far. */
function lazyBody(total: number, first = ''): { stream: Readable; sent: () => number } {
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const head = Buffer.from(first);
  const stream = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const piece = sent === 0 && head.length > 0 ? head : chunk;
      const n = Math.min(piece.length, total - sent);
      sent += n;
      this.push(n === piece.length ? piece : piece.subarray(0, n));
    },
  });
  return { stream, sent: () => sent };
}

/** Sends a lazy 1 GiB body (`withLength`: announced in Content-Length; else chunked). */
function sendHuge(res: ServerResponse, status: number, headers: Record<string, string>, withLength: boolean, first = '', log?: { sent: () => number }[]): void {
  const body = lazyBody(GiB, first);
  log?.push(body);
  res.writeHead(status, { ...headers, ...(withLength ? { 'content-length': String(GiB) } : {}) });
  body.stream.pipe(res);
  res.on('close', () => body.stream.destroy());
}

let root: string | undefined;

/** Runs `args` against a store holding one image; the clean failure with `text`; returns the peak RSS in kB. */
async function failsSmall(args: string[], text: string): Promise<number> {
  if (!root) {
    root = await makeRoot();
    await importDir(root, 'kept', 'local/kept:1');
  }
  const before = await snapshotTree(root);
  const { r, peakKb } = await runMeasured(args, root);
  expect(hasRawControl(r.stdout + r.stderr)).toBe(false);
  expectOneLineError(r, text);
  expect(await snapshotTree(root)).toEqual(before);
  expect(peakKb, `peak RSS ${peakKb} kB`).toBeGreaterThan(0);
  expect(peakKb, `peak RSS ${peakKb} kB`).toBeLessThan(RSS_LIMIT_KB);
  return peakKb;
}

let reg: Hostile;
const bodies: { sent: () => number }[] = [];
const peaks: Record<string, number> = {};

/** The last huge body served was cut off well before its end. */
function abortedEarly(): void {
  const last = bodies.at(-1);
  expect(last, 'a huge body was served').toBeDefined();
  // Kernel socket buffers and the bytes before the limit, not the GiB.
  expect(last!.sent()).toBeLessThan(64 * 1024 * 1024);
}

describe('readLimited', () => {
  it('refuses from Content-Length before reading, destroying the body', async () => {
    const { stream, sent } = lazyBody(GiB);
    await expect(readLimited(stream, 1024, 'thing', String(GiB))).rejects.toThrow(new TooLargeError('thing', GiB, 1024));
    expect(sent()).toBe(0);
    expect(stream.destroyed).toBe(true);
  });

  it('stops as soon as the limit is passed, and reads a body at the limit whole', async () => {
    const big = lazyBody(GiB);
    await expect(readLimited(big.stream, 100_000, 'thing', undefined, 'HOST/x')).rejects.toThrow('thing too large (more than 100000 bytes, limit 100000 bytes): HOST/x');
    expect(big.sent()).toBeLessThan(1024 * 1024);
    expect(big.stream.destroyed).toBe(true);
    const exact = lazyBody(4 * 1024 * 1024);
    expect((await readLimited(exact.stream, 4 * 1024 * 1024, 'manifest', String(4 * 1024 * 1024))).length).toBe(4 * 1024 * 1024);
  });
});

describe('manifests: 4 MiB', () => {
  it('1 GiB announced in Content-Length: refused before reading', async () => {
    reg ??= await startHostile();
    reg.on('big/cl', (_req, res, info) => {
      if (info.kind !== 'manifests') return false;
      sendHuge(res, 200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, true, '{"schemaVersion":2,"x":"', bodies);
      return true;
    });
    peaks['manifest, Content-Length'] = await failsSmall(['pull', `${reg.host}/big/cl:1`], `manifest too large (${GiB} bytes, limit 4 MiB): ${reg.host}/big/cl:1`);
    abortedEarly();
  });

  it('1 GiB chunked (no Content-Length): cut off after 4 MiB', async () => {
    reg ??= await startHostile();
    reg.on('big/chunked', (_req, res, info) => {
      if (info.kind !== 'manifests') return false;
      sendHuge(res, 200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, false, '{"schemaVersion":2,"x":"', bodies);
      return true;
    });
    peaks['manifest, chunked'] = await failsSmall(['pull', `${reg.host}/big/chunked:1`], 'manifest too large (more than 4194304 bytes, limit 4 MiB)');
    abortedEarly();
  });
});

/** A registry whose token service (its own /token) answers with `token`. */
async function tokenRegistry(token: (req: IncomingMessage, res: ServerResponse) => void): Promise<Hostile> {
  const h = await startHostile();
  const challenge = `Bearer realm="${h.url}/token",service="hostile"`;
  const gate = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.headers.authorization?.startsWith('Bearer ')) return false;
    res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"x"}]}');
    return true;
  };
  h.onPing((req, res) => {
    if (!gate(req, res)) res.writeHead(200).end('{}');
  });
  h.on('t/app', (req, res) => gate(req, res));
  h.onOther((req, res) => {
    if (!req.url?.startsWith('/token')) return false;
    token(req, res);
    return true;
  });
  return h;
}

describe('token bodies: 1 MiB', () => {
  for (const withLength of [true, false]) {
    it(`a 1 GiB token answer ${withLength ? 'announced in Content-Length' : 'chunked'}`, async () => {
      const h = await tokenRegistry((_req, res) => sendHuge(res, 200, { 'content-type': 'application/json' }, withLength, '{"token":"', bodies));
      const size = withLength ? `${GiB} bytes` : 'more than 1048576 bytes';
      peaks[`token, ${withLength ? 'Content-Length' : 'chunked'}`] = await failsSmall(['pull', `${h.host}/t/app:1`], `token service response for ${h.host} too large (${size}, limit 1 MiB)`);
      abortedEarly();
    });
  }
});

describe('error bodies: 1 MiB', () => {
  for (const withLength of [true, false]) {
    it(`a 1 GiB error body ${withLength ? 'announced in Content-Length' : 'chunked'}: the status alone is told`, async () => {
      reg ??= await startHostile();
      const repo = `err/${withLength ? 'cl' : 'chunked'}`;
      reg.on(repo, (_req, res, info) => {
        if (info.kind !== 'manifests') return false;
        sendHuge(res, 400, { 'content-type': 'application/json' }, withLength, '{"errors":[{"code":"DENIED","message":"', bodies);
        return true;
      });
      peaks[`error, ${withLength ? 'Content-Length' : 'chunked'}`] = await failsSmall(['pull', `${reg.host}/${repo}:1`], `manifest for ${reg.host}/${repo}:1: 400`);
      abortedEarly();
    });
  }
});

describe('tag lists: 32 MiB a page', () => {
  it('pull -a with a 1 GiB tag list', async () => {
    reg ??= await startHostile();
    reg.on('tags/huge', (_req, res, info) => {
      if (info.kind !== 'tags') return false;
      sendHuge(res, 200, { 'content-type': 'application/json' }, false, '{"name":"tags/huge","tags":["', bodies);
      return true;
    });
    peaks['tag list, chunked'] = await failsSmall(['pull', '-a', `${reg.host}/tags/huge`], `tag list of ${reg.host}/tags/huge too large (more than 33554432 bytes, limit 32 MiB)`);
    abortedEarly();
  });

  it('peak RSS of each case (kB)', () => {
    console.log(`peak RSS (VmHWM) of the CLI per case, kB: ${JSON.stringify(peaks)}`);
    expect(Object.keys(peaks).length).toBe(7);
  });
});
