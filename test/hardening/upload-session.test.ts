// Issue 12 item 12: a saved upload session that the registry rejects at the final PUT
// (DIGEST_INVALID, BLOB_UPLOAD_INVALID) must not make every later push fail the same way: the
// session is dropped, the push says so, and that blob goes again from byte 0, once. A second
// rejection, or a rejection of a fresh session, is the error: one line, exit 1.
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot } from '../helpers/cli.js';
import type { Hostile, HostileRequest } from '../helpers/hostile-registry.js';
import { hasRawControl, notFound, startHostile } from '../helpers/hostile-registry.js';
import { isUploadPatch, uploadBodies } from '../helpers/fault-proxy.js';
import { makeImage } from '../helpers/images.js';
import { useRegistryWithProxy } from '../helpers/registry-suite.js';
import { id12, parsePush, show, tsd } from '../helpers/remote-cli.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});

/** How the sessioned registry below treats requests. */
interface Mode {
  /** Answer the Nth PATCH (1-based, over the repository's life) with 403 DENIED. */
  denyPatch?: number;
  /** Which final PUTs to reject: those of sessions opened before `rejectOlderThan` (a generation number), or all. */
  rejectPut?: 'old' | 'all';
  /** Spec code of the rejection. */
  code?: 'DIGEST_INVALID' | 'BLOB_UPLOAD_INVALID';
}

/**
 * A small registry with real upload sessions for `repo`: POST opens one, PATCH appends, GET
 * reports its Range, PUT closes it, DELETE drops it. Blobs never exist (HEAD 404), so every push
 * uploads. `mode` is read on every request; `generation` bumps mark sessions as "old".
 */
function sessioned(repo: string, mode: Mode): { nextGeneration(): void; requests(): HostileRequest[]; accepted: number[] } {
  const accepted: number[] = [];
  const sessions = new Map<string, { bytes: number; generation: number }>();
  let generation = 0;
  let patches = 0;
  let n = 0;
  const answer = (res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: string): void => {
    res.writeHead(status, { 'content-length': body ? Buffer.byteLength(body) : 0, ...headers }).end(body);
  };
  const specError = (res: ServerResponse, status: number, code: string, message: string): void =>
    answer(res, status, { 'content-type': 'application/json' }, JSON.stringify({ errors: [{ code, message }] }));
  h.on(repo, (req: IncomingMessage, res: ServerResponse, info) => {
    if (info.kind === 'blobs') {
      notFound(res, 'BLOB_UNKNOWN', 'blob unknown to registry');
      return true;
    }
    if (info.kind !== 'uploads') return false;
    const id = info.ref.split('?')[0]!;
    const loc = (sid: string): string => `/v2/${repo}/blobs/uploads/${sid}`;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const size = chunks.reduce((s, c) => s + c.length, 0);
      const s = sessions.get(id);
      if (req.method === 'POST') {
        const sid = `s${++n}`;
        sessions.set(sid, { bytes: 0, generation });
        return answer(res, 202, { location: loc(sid), range: '0-0', 'docker-upload-uuid': sid });
      }
      if (!s) return specError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
      if (req.method === 'GET') return answer(res, 204, { location: loc(id), range: `0-${Math.max(0, s.bytes - 1)}` });
      if (req.method === 'DELETE') {
        sessions.delete(id);
        return answer(res, 204);
      }
      if (req.method === 'PATCH') {
        if (mode.denyPatch !== undefined && ++patches === mode.denyPatch) return specError(res, 403, 'DENIED', 'requested access to the resource is denied');
        s.bytes += size;
        return answer(res, 202, { location: loc(id), range: `0-${s.bytes - 1}` });
      }
      if (req.method === 'PUT') {
        s.bytes += size;
        const reject = mode.rejectPut === 'all' || (mode.rejectPut === 'old' && s.generation < generation);
        // Only the layer is pushed in chunks; the small config goes as one POST + PUT and is accepted.
        if (reject && s.bytes > 64 * 1024) return specError(res, mode.code === 'BLOB_UPLOAD_INVALID' ? 404 : 400, mode.code ?? 'DIGEST_INVALID', 'provided digest did not match uploaded content');
        sessions.delete(id);
        accepted.push(s.bytes);
        const digest = new URL(req.url ?? '/', 'http://x').searchParams.get('digest') ?? '';
        return answer(res, 201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
      }
      answer(res, 405);
    });
    return true;
  });
  const from = h.requests.length;
  return {
    accepted,
    nextGeneration: () => void generation++,
    /** Requests to the repository's upload sessions. */
    requests: () => h.requests.slice(from).filter((q) => q.path.startsWith(`/v2/${repo}/blobs/uploads/`)),
  };
}

/** A store holding `HOST/repo:1` with one ~300 KiB layer (random text: gzip keeps most of it). */
async function storeWith(repo: string): Promise<{ root: string; name: string }> {
  const root = await makeRoot();
  const name = `${h.host}/${repo}:1`;
  await importDir(root, randomBytes(300 * 1024).toString('base64'), name);
  return { root, name };
}

/** Saved sessions in the store's sidecar (not the lock files). */
async function savedSessions(root: string): Promise<string[]> {
  return (await readdir(join(root, 'uploads')).catch(() => [] as string[])).filter((f) => !f.endsWith('.lock'));
}

/** Body bytes the registry received by PATCH and PUT. */
function uploaded(reqs: HostileRequest[]): number {
  return reqs.filter((q) => q.method === 'PATCH' || q.method === 'PUT').reduce((s, q) => s + q.bodyBytes, 0);
}

const PUSH = ['push', '--chunk-size', '64k'];

/** Runs a push that fails on the second PATCH (403), leaving the layer's session saved. */
async function interruptedPush(root: string, name: string, reg: ReturnType<typeof sessioned>, mode: Mode): Promise<void> {
  mode.denyPatch = 2;
  const r = await tsd([...PUSH, name], { root });
  expectOneLineError(r, 'denied');
  expect(await savedSessions(root), 'the first push saved its session').toHaveLength(1);
  delete mode.denyPatch;
  reg.nextGeneration();
}

describe('a saved session rejected at the final PUT', () => {
  for (const code of ['DIGEST_INVALID', 'BLOB_UPLOAD_INVALID'] as const) {
    it(`${code}: dropped, said so, the blob sent again from byte 0 once; the push succeeds`, async () => {
      const repo = `rejects-${code.toLowerCase().replace(/_/g, '-')}`;
      const mode: Mode = { rejectPut: 'old', code };
      const reg = sessioned(repo, mode);
      const { root, name } = await storeWith(repo);
      await interruptedPush(root, name, reg, mode);
      const before = reg.requests().length;

      const r = await tsd([...PUSH, name], { root });
      expect(r.code, show(r)).toBe(0);
      const out = parsePush(r.stdout);
      const layer = Object.keys(out.layers)[0]!;
      expect(out.layers[layer]).toBe('Pushed');
      const words = code === 'DIGEST_INVALID' ? 'digest invalid' : 'blob upload invalid';
      expect(r.stdout).toContain(`${layer}: upload session rejected by the registry (${words}): uploading again from the start`);
      expect(hasRawControl(r.stdout + r.stderr)).toBe(false);
      expect(r.stderr).toBe('');

      const second = reg.requests().slice(before);
      const puts = second.filter((q) => q.method === 'PUT');
      // The resumed session's PUT (rejected), the fresh session's PUT, the config's PUT.
      expect(puts, show(r)).toHaveLength(3);
      expect(second.filter((q) => q.method === 'DELETE'), 'the rejected session is cancelled').toHaveLength(1);
      expect(second.filter((q) => q.method === 'POST')).toHaveLength(2);
      // From byte 0 once: the rest of the layer (the resumed session), then one whole copy, and the config.
      const layerSize = Math.max(...reg.accepted);
      const configSize = Math.min(...reg.accepted);
      expect(layerSize).toBeGreaterThan(200 * 1024);
      expect(uploaded(second)).toBe(layerSize - 64 * 1024 + layerSize + configSize);
      expect(await savedSessions(root)).toEqual([]);

      // And the next push is no longer poisoned: nothing is saved, it starts fresh and succeeds.
      const again = await tsd([...PUSH, name], { root });
      expect(again.code, show(again)).toBe(0);
      expect(again.stdout).not.toContain('upload session rejected');
    });
  }

  it('rejected again after starting over: that is the error (one line, exit 1), tried once', async () => {
    const repo = 'rejects-always';
    const mode: Mode = { rejectPut: 'all' };
    const reg = sessioned(repo, mode);
    const { root, name } = await storeWith(repo);
    await interruptedPush(root, name, reg, mode);
    const before = reg.requests().length;
    const r = await tsd([...PUSH, name], { root });
    expectOneLineError(r, 'digest_invalid: provided digest did not match uploaded content');
    expect(hasRawControl(r.stdout + r.stderr)).toBe(false);
    expect(r.stdout.match(/upload session rejected by the registry/g) ?? []).toHaveLength(1);
    const layerPuts = reg.requests().slice(before).filter((q) => q.method === 'PUT' && q.bodyBytes === 0);
    expect(layerPuts, show(r)).toHaveLength(2);
    // Nothing poisoned is kept for the next push.
    expect(await savedSessions(root)).toEqual([]);
  });

  it('a fresh session rejected: the error at once, no second upload', async () => {
    const repo = 'rejects-fresh';
    const reg = sessioned(repo, { rejectPut: 'all' });
    const { root, name } = await storeWith(repo);
    const r = await tsd([...PUSH, name], { root });
    expectOneLineError(r, 'digest_invalid');
    expect(r.stdout).not.toContain('upload session rejected');
    expect(await savedSessions(root)).toEqual([]);
    expect(reg.requests().filter((q) => q.method === 'POST' && q.path.endsWith('/uploads/')).length, show(r)).toBeLessThanOrEqual(2);
  });
});

// The same against docker-registry 2.8.2, through the fault proxy: the first push fails after a
// chunk (503s until it gives up), keeping its session; the registry's copy of that session's bytes
// is then damaged (one byte flipped, its saved hash states removed so that it hashes the file
// again), so it answers the resumed session's final PUT with DIGEST_INVALID.
const env = useRegistryWithProxy();

describe('docker-registry: a damaged saved session', () => {
  it('DIGEST_INVALID at the resumed PUT: the push starts that blob over once and succeeds', async () => {
    const MiB = 1024 * 1024;
    const root = await makeRoot();
    const repo = 'damaged-session';
    const name = `${env.host}/${repo}:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 3, seed: 12_012 }]);
    const layer = img.layers[0]!;
    let patches = 0;
    env.proxy.setRules({ unavailable: { count: 100, retryAfter: '0', match: (r) => isUploadPatch(r) && ++patches >= 2 } });
    const first = await tsd(['push', '--chunk-size', '1m', name], { root });
    expectOneLineError(first, 'service unavailable');
    expect(await savedSessions(root)).toHaveLength(1);

    const uploads = join(env.reg.storage, 'docker', 'registry', 'v2', 'repositories', repo, '_uploads');
    const ids = await readdir(uploads);
    let damaged = 0;
    for (const id of ids) {
      const data = join(uploads, id, 'data');
      const size = (await readFile(data).catch(() => Buffer.alloc(0))).length;
      if (size < MiB) continue;
      const f = await open(data, 'r+');
      const b = Buffer.alloc(1);
      await f.read(b, 0, 1, 1000);
      b[0] = b[0]! ^ 0xff;
      await f.write(b, 0, 1, 1000);
      await f.close();
      await rm(join(uploads, id, 'hashstates'), { recursive: true, force: true });
      damaged++;
    }
    expect(damaged, 'the saved session holds a chunk in the registry').toBe(1);

    env.proxy.setRules({});
    env.proxy.resetStats();
    const r = await tsd(['push', '--chunk-size', '1m', name], { root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`${id12(layer.digest)}: upload session rejected by the registry (digest invalid): uploading again from the start`);
    expect(parsePush(r.stdout).layers[id12(layer.digest)]).toBe('Pushed');
    const sent = env.proxy.stats().requestBytes(uploadBodies);
    expect(sent).toBeGreaterThan(layer.size);
    expect(sent).toBeLessThan(2 * layer.size);
    const data = await readFile(env.reg.blobFile(layer.digest));
    expect(`sha256:${createHash('sha256').update(data).digest('hex')}`).toBe(layer.digest);
    expect(await savedSessions(root)).toEqual([]);
  });
});
