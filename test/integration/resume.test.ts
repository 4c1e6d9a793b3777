// Resume: a push or pull of a 64 MiB layer killed (SIGKILL) or stopped (Ctrl-C) half-way, then run again, does not
// move the first half again. The fault proxy throttles the transfer so the test can kill it
// half-way (judged by the bytes that went through, never by time).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../helpers/cli.js';
import { makeRoot, namesInStore } from '../helpers/cli.js';
import { waitUntil } from '../helpers/daemon.js';
import type { Match, RecordFilter } from '../helpers/fault-proxy.js';
import { isBlobGet, isUploadPatch, uploadBodies, uploadPatches } from '../helpers/fault-proxy.js';
import { describeStored, makeImage, storeProblems } from '../helpers/images.js';
import { checkLayout } from '../helpers/layout.js';
import { useRegistryWithProxy } from '../helpers/registry-suite.js';
import type { BackgroundCli } from '../helpers/remote-cli.js';
import { id12, parsePull, parsePush, show, startCli, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect } from '../helpers/skopeo.js';

const MiB = 1024 * 1024;
const LAYER_MIB = 64;
/** The second run must move well under the whole layer. */
const SECOND_RUN_LIMIT = 48 * MiB;
const THROTTLE = 16 * MiB;

const env = useRegistryWithProxy();

/** Waits until `bytes()` reaches `target`, then sends `signal` to the CLI; fails loudly if it ended first. */
async function signalWhen(cli: BackgroundCli, what: string, bytes: () => number, target: number, signal: NodeJS.Signals): Promise<RunResult> {
  let exited = false;
  void cli.result.then(() => (exited = true));
  await waitUntil(`${what} to reach ${target} bytes before the CLI gets ${signal}`, () => (bytes() >= target ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 10,
    dead: () => exited,
    context: () => `bytes so far: ${bytes()}\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`,
  });
  cli.kill(signal);
  return cli.result;
}

/** {@link signalWhen} with SIGKILL, checking the CLI was killed rather than finished. */
async function killWhen(cli: BackgroundCli, what: string, bytes: () => number, target: number): Promise<void> {
  const r = await signalWhen(cli, what, bytes, target, 'SIGKILL');
  expect(r.stderr, 'the CLI was killed, not finished').toContain('killed by SIGKILL');
}

describe('resume after SIGKILL half-way through a 64 MiB layer', () => {
  it('push: the second run does not resend the first half', async () => {
    const root = await makeRoot();
    const name = `${env.host}/resume-push:1`;
    const img = await makeImage(root, name, [{ sizeMiB: LAYER_MIB, seed: 9001 }]);
    const layer = img.layers[0]!;

    // docker-registry 2.8.2 cancels an upload session whose last PATCH was cut short (harness
    // test "without buffering..."), so no client could resume behind a plain streaming hop. The
    // proxy therefore stores and forwards each PATCH, as nginx does by default
    // (proxy_request_buffering on): the chunk in flight at the kill never reaches the registry.
    // (The built-in registry would keep a cut PATCH's bytes; the same setup serves both.)
    env.proxy.setRules({ bufferRequests: {}, throttle: { bytesPerSecond: THROTTLE, match: isUploadPatch } });
    const first = await startCli(['push', name], { root });
    await killWhen(first, 'PATCH bytes sent by the first push', () => env.proxy.stats().receivedBytes(uploadPatches), Math.ceil(layer.size * 0.55));
    const reachedRegistry = env.proxy.stats().requestBytes(uploadPatches);
    expect(reachedRegistry, 'at least one whole chunk reached the registry before the kill').toBeGreaterThan(0);
    expect(reachedRegistry).toBeLessThan(layer.size);

    env.proxy.setRules({});
    env.proxy.resetStats();
    const second = await tsd(['push', name], { root });
    expect(second.code, show(second)).toBe(0);
    const sent = env.proxy.stats().requestBytes(uploadBodies);
    expect(sent, `the second push sent ${sent} bytes of a ${layer.size}-byte layer (${reachedRegistry} were already in the registry)`).toBeLessThan(SECOND_RUN_LIMIT);
    const out = parsePush(second.stdout);
    expect(out.layers[id12(layer.digest)]).toBe('Pushed');
    expect(out.digests).toEqual([{ tag: '1', digest: img.manifestDigest, size: expect.any(Number) as number }]);

    // The registry ends with the right blob and image.
    const info = await skopeoInspect(`docker://${name}`);
    expect(info.Digest).toBe(img.manifestDigest);
    expect(info.Layers).toEqual([layer.digest]);
    const data = await readFile(env.reg.blobFile(layer.digest));
    expect(data.length).toBe(layer.size);
    expect(`sha256:${createHash('sha256').update(data).digest('hex')}`).toBe(layer.digest);
  }, 300_000);

  it('push: Ctrl-C (SIGINT) stops after the current chunk, even through a streaming hop; the next push resumes', async () => {
    const root = await makeRoot();
    const name = `${env.host}/resume-ctrl-c:1`;
    const img = await makeImage(root, name, [{ sizeMiB: LAYER_MIB, seed: 9003 }]);
    const layer = img.layers[0]!;
    // No store-and-forward here: every PATCH streams to the registry as it is sent, so only a
    // clean stop between chunks keeps the session resumable (docker-registry drops a cut one;
    // the built-in registry keeps its bytes, and the assertions hold for both).
    env.proxy.setRules({ throttle: { bytesPerSecond: THROTTLE, match: isUploadPatch } });
    const first = await startCli(['push', '--chunk-size', '4m', name], { root });
    const r = await signalWhen(first, 'PATCH bytes reaching the registry', () => env.proxy.stats().requestBytes(uploadPatches), layer.size / 2, 'SIGINT');
    expect(r.code, show(r)).toBe(130);
    expect(r.stderr).toContain('run the same push again to resume');
    const reachedRegistry = env.proxy.stats().requestBytes(uploadPatches);
    expect(reachedRegistry).toBeLessThan(layer.size);

    env.proxy.setRules({});
    env.proxy.resetStats();
    const second = await tsd(['push', '--chunk-size', '4m', name], { root });
    expect(second.code, show(second)).toBe(0);
    const sent = env.proxy.stats().requestBytes(uploadBodies);
    expect(sent, `the second push sent ${sent} bytes; ${reachedRegistry} were already in the registry`).toBeLessThanOrEqual(layer.size - reachedRegistry);
    expect(parsePush(second.stdout).layers[id12(layer.digest)]).toBe('Pushed');
    expect((await skopeoInspect(`docker://${name}`)).Digest).toBe(img.manifestDigest);
  }, 300_000);

  for (const stop of ['SIGKILL', 'SIGINT'] as const) {
    const how = stop === 'SIGKILL' ? 'killed' : 'stopped with Ctrl-C (at once, saying the bytes are kept)';
    it(`pull ${how} half-way: the second run does not download the first half again`, async () => {
      const repo = `resume-pull-${stop.toLowerCase()}`;
      const src = await makeRoot();
      const direct = `${env.reg.host}/${repo}:1`;
      const img = await makeImage(src, direct, [{ sizeMiB: LAYER_MIB, seed: stop === 'SIGKILL' ? 9002 : 9004 }]);
      const layer = img.layers[0]!;
      const pushed = await tsd(['push', direct], { root: src });
      expect(pushed.code, show(pushed)).toBe(0);

      const name = `${env.host}/${repo}:1`;
      const root = await makeRoot();
      const layerGet: Match = (r) => isBlobGet(r) && r.path.endsWith(`/blobs/${layer.digest}`);
      const layerGets: RecordFilter = (q) => q.method === 'GET' && q.path.endsWith(`/blobs/${layer.digest}`);
      env.proxy.setRules({ throttle: { bytesPerSecond: THROTTLE, match: layerGet } });
      const first = await startCli(['pull', name], { root });
      const received = (): number => env.proxy.stats().responseBytes(layerGets);
      const half = Math.ceil(layer.size * 0.55);
      if (stop === 'SIGKILL') {
        await killWhen(first, 'layer bytes received by the first pull', received, half);
      } else {
        const r = await signalWhen(first, 'layer bytes received by the first pull', received, half, 'SIGINT');
        expect(r.code, show(r)).toBe(130);
        expect(r.stderr).toContain('Stopping; what was downloaded is kept and the next pull continues from it.');
        expect(r.stderr).not.toContain('after the current chunk');
        expect(r.stderr).toContain('run the same command again to resume');
      }

      // Stopped half-way, the store is still consistent and names nothing new.
      expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
      expect(await namesInStore(root)).toEqual([]);

      env.proxy.setRules({});
      env.proxy.resetStats();
      const second = await tsd(['pull', name], { root });
      expect(second.code, show(second)).toBe(0);
      const again = received();
      expect(again, `the second pull received ${again} bytes of a ${layer.size}-byte layer`).toBeLessThan(SECOND_RUN_LIMIT);
      expect(parsePull(second.stdout).layers).toEqual({ [id12(layer.digest)]: 'Pull complete' });
      expect((await describeStored(root, name)).id).toBe(img.id);
      expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
    }, 300_000);
  }
});
