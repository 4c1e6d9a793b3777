// The bench's own smoke test (issue 4): `node bench/run.mjs --quick` runs end to end against a
// real docker-registry and skopeo, and its JSON has every scenario with numbers in it. No
// assertion is about speed: the numbers are for people (bench/README.md), not for CI.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, makeSandbox, requireBuilt, sh } from '../helpers/cli.js';

interface Span { median: number; min: number; max: number; n: number }
interface Result {
  op: string; image: string; tsd: Span; skopeo: Span; limit?: Span; tsdRssKiB: Span; ratioSkopeo: number; ratioLimit?: number;
  tsdCpu: Span; tsdSys: Span; skopeoCpu: Span; skopeoSys: Span;
}
interface Limit { what: string; image: string; time: Span }
interface StartupCommand { label: string; time: Span; rssKiB: Span; ratio: number }
interface BenchDoc {
  mode: string;
  runs: number;
  images: { id: string }[];
  results: Result[];
  limits: Limit[];
  startup: { commands: StartupCommand[] };
}

const IMAGES = ['1x1g', '4x256m', '64x1m'];
const OPS = ['push', 'pull', 're-push'];

/** A measured span: positive finite seconds, min <= median <= max, one sample per run. */
function expectSpan(s: Span | undefined, runs: number, what: string): void {
  expect(s, what).toBeDefined();
  for (const k of ['median', 'min', 'max'] as const) expect(Number.isFinite(s![k]) && s![k] > 0, `${what} ${k} = ${s![k]}`).toBe(true);
  expect(s!.min <= s!.median && s!.median <= s!.max, what).toBe(true);
  expect(s!.n, what).toBe(runs);
}

describe('npm run bench:quick', () => {
  it('measures every scenario, limit and startup command, and writes the JSON and markdown reports', async () => {
    requireBuilt();
    // The bench checks its own tools (docker-registry, skopeo, curl, openssl, GNU time, unshare)
    // and fails naming the apt packages to install: that message lands in the assertion below.
    const out = join(await makeSandbox(), 'quick.json');
    const r = await sh(process.execPath, [join(REPO_ROOT, 'bench', 'run.mjs'), '--quick', '--out', out], { cwd: REPO_ROOT, timeoutMs: 600_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

    const doc = JSON.parse(await readFile(out, 'utf8')) as BenchDoc;
    expect(doc.mode).toBe('quick');
    expect(doc.images.map((i) => i.id)).toEqual(IMAGES);
    for (const image of IMAGES) {
      for (const op of OPS) {
        const row = doc.results.find((x) => x.op === op && x.image === image);
        const what = `${op} ${image}`;
        expect(row, what).toBeDefined();
        expectSpan(row!.tsd, doc.runs, `${what} ts-docker`);
        expectSpan(row!.skopeo, doc.runs, `${what} skopeo`);
        expectSpan(row!.tsdRssKiB, doc.runs, `${what} ts-docker peak RSS`);
        expect(Number.isFinite(row!.ratioSkopeo) && row!.ratioSkopeo > 0, `${what} ts-docker / skopeo`).toBe(true);
        // CPU seconds come in hundredths from GNU time: a tiny transfer may use 0.00 s of system time.
        for (const k of ['tsdCpu', 'tsdSys', 'skopeoCpu', 'skopeoSys'] as const) {
          const c = row![k];
          expect(c?.n, `${what} ${k}`).toBe(doc.runs);
          expect(c.min >= 0 && c.min <= c.median && c.median <= c.max && Number.isFinite(c.max), `${what} ${k}`).toBe(true);
        }
        expect(row!.tsdSys.median <= row!.tsdCpu.median, `${what} ts-docker system CPU within its total`).toBe(true);
        if (op !== 're-push') {
          expectSpan(row!.limit, doc.runs, `${what} limit`);
          expect(Number.isFinite(row!.ratioLimit) && row!.ratioLimit! > 0, `${what} ts-docker / limit`).toBe(true);
        }
      }
      for (const what of ['openssl dgst -sha256', 'curl upload (POST + PUT per blob)', 'curl GET (one process, all blobs)', 'node GET + SHA-256 (3 connections, no files)']) {
        expectSpan(doc.limits.find((l) => l.what === what && l.image === image)?.time, doc.runs, `${what} ${image}`);
      }
    }
    const labels = doc.startup.commands.map((c) => c.label);
    expect(labels).toEqual(["node -e ''", 'ts-docker images (1000 names)', 'ts-docker tag', 'ts-docker rmi']);
    for (const c of doc.startup.commands) {
      expectSpan(c.time, 3, c.label);
      expect(Number.isFinite(c.ratio) && c.ratio > 0, `${c.label} ratio`).toBe(true);
    }

    // The table a person reads, beside the JSON and on stdout.
    const md = await readFile(out.replace(/\.json$/, '.md'), 'utf8');
    for (const heading of ['| operation | image |', '| limit | image |', '| command | seconds |', 'CPU seconds of each tool']) expect(md).toContain(heading);
    expect(r.stdout).toContain('| push | 1 x 8.0 MiB |');
  }, 900_000);
});
