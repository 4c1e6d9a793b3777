#!/usr/bin/env node
// ts-docker bench: push and pull against skopeo and the machine's limits, on one docker-registry
// on loopback, in one run, alternating the tools run by run. See bench/README.md.
//
//   node bench/run.mjs [--quick] [--runs N] [--startup-runs N] [--only push,pull,re-push,startup]
//                      [--images 1x1g,4x256m,64x1m] [--tsd PATH/bin/ts-docker.js]
//                      [--push-args '--chunk-size 64m'] [--pull-args '...'] [--out FILE]
//                      [--compare OTHER/bin/ts-docker.js [--compare-push-args '...'] [--compare-pull-args '...']]
//                      [--workdir DIR] [--keep]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, writeLayout } from './lib/image.mjs';
import { requireTools, stopAll, timed } from './lib/proc.mjs';
import { startRegistry } from './lib/registry.mjs';
import { humanBytes, markdown, summary } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');
const MiB = 1024 * 1024;

function parseArgs(argv) {
  const o = { quick: false, keep: false, runs: undefined, startupRuns: undefined, only: undefined, images: undefined,
    tsd: join(REPO, 'bin', 'ts-docker.js'), pushArgs: [], pullArgs: [], out: undefined, workdir: undefined,
    compare: undefined, comparePushArgs: undefined, comparePullArgs: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--startup-runs') o.startupRuns = Number(val());
    else if (a === '--only') o.only = new Set(val().split(','));
    else if (a === '--images') o.images = new Set(val().split(','));
    else if (a === '--tsd') o.tsd = resolve(val());
    else if (a === '--push-args') o.pushArgs = val().split(/\s+/).filter(Boolean);
    else if (a === '--pull-args') o.pullArgs = val().split(/\s+/).filter(Boolean);
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--compare') o.compare = resolve(val());
    else if (a === '--compare-push-args') o.comparePushArgs = val().split(/\s+/).filter(Boolean);
    else if (a === '--compare-pull-args') o.comparePullArgs = val().split(/\s+/).filter(Boolean);
    else if (a === '--workdir') o.workdir = resolve(val());
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/run.mjs [--quick] [--runs N] [--startup-runs N] [--only push,pull,re-push,startup] ' +
        "[--images 1x1g,4x256m,64x1m] [--tsd bin/ts-docker.js] [--push-args '...'] [--pull-args '...'] [--out FILE] [--workdir DIR] [--keep] " +
        "[--compare OTHER/bin/ts-docker.js [--compare-push-args '...'] [--compare-pull-args '...']]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  o.runs ??= o.quick ? 3 : 5;
  o.startupRuns ??= o.quick ? 3 : 20;
  if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 50) throw new Error('--runs must be 1..50');
  if (!Number.isInteger(o.startupRuns) || o.startupRuns < 1 || o.startupRuns > 200) throw new Error('--startup-runs must be 1..200');
  o.out ??= join(HERE, 'results', o.quick ? 'quick.json' : 'latest.json');
  o.comparePushArgs ??= o.pushArgs;
  o.comparePullArgs ??= o.pullArgs;
  return o;
}

// The images: full sizes as issue 4 asks; quick ones small enough for a CI smoke run.
const FULL = [
  { id: '1x1g', count: 1, layerSize: 1024 * MiB },
  { id: '4x256m', count: 4, layerSize: 256 * MiB },
  { id: '64x1m', count: 64, layerSize: 1 * MiB },
];
const QUICK = [
  { id: '1x1g', count: 1, layerSize: 8 * MiB },
  { id: '4x256m', count: 4, layerSize: 2 * MiB },
  { id: '64x1m', count: 8, layerSize: 64 * 1024 },
];
const TARGETS = { push: { skopeo: 0.85, limit: 1.25 }, pull: { skopeo: 0.6 }, 're-push': { skopeo: 2.0 } };
const STARTUP_TARGETS = { images: 1.8, tag: 1.6 };
/** ts-docker's default `--max-concurrent-downloads` (docker's), used by the node GET limit too. */
const PULL_CONCURRENCY = 3;

function version(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch {
    return `${cmd} (unknown version)`;
  }
}

function machine() {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model?.trim() ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: `Linux ${release()}`,
    node: process.versions.node,
    skopeo: version('skopeo', ['--version']),
    registry: version('docker-registry', ['--version']).replace(/^docker-registry\s+/, 'docker-registry '),
    openssl: version('openssl', ['version']),
    curl: version('curl', ['--version']),
    // Set on this machine: every node process (ts-docker and `node -e ''` alike) then parses that
    // CA file at start, ~30 ms, which weighs on every startup ratio (bench/README.md).
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null,
  };
}

/** Which ts-docker was measured: its checkout's commit and whether its src/ had uncommitted changes. */
function revision(tsdBin) {
  const root = resolve(dirname(tsdBin), '..');
  try {
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return `${head}${dirty ? ' (src/ has uncommitted changes)' : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

/** Files of a directory tree, for checking pulled blobs. */
async function blobSizes(root) {
  const dir = join(root, 'blobs', 'sha256');
  const out = new Map();
  for (const n of await readdir(dir).catch(() => [])) out.set(`sha256:${n}`, (await stat(join(dir, n))).size);
  return out;
}

/**
 * Flushes dirty pages before a timed transfer (not timed). Each run writes GiBs (the registry's
 * copy, each tool's pull); left to the kernel, their writeback (dirty_expire 30 s,
 * dirty_background_ratio 10%) lands in the middle of whichever tool runs next and costs it
 * kernel CPU on this 2-vCPU machine: pulls then took 2.6 s instead of 1.4 s in some runs.
 */
function settle() {
  execFileSync('sync');
}

function count(text, re) {
  return (text.match(re) ?? []).length;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  requireTools([['docker-registry', 'docker-registry'], ['skopeo', 'skopeo'], ['curl', 'curl'], ['openssl', 'openssl'],
    ['unshare', 'util-linux'], ['/usr/bin/time', 'time']]);
  if (!existsSync(o.tsd)) throw new Error(`${o.tsd} not found`);
  if (!existsSync(join(dirname(o.tsd), '..', 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  if (o.compare && !existsSync(o.compare)) throw new Error(`${o.compare} not found`);
  const started = Date.now();
  const loadBefore = loadavg()[0];
  const phases = o.only ?? new Set(['push', 'pull', 're-push', 'startup']);
  const work = o.workdir ?? (await mkdtemp(join(tmpdir(), 'ts-docker-bench-')));
  await mkdir(work, { recursive: true });
  const log = (s) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);
  let registry;
  const onSignal = async () => {
    log('interrupted: stopping every process the bench started');
    await stopAll();
    if (!o.keep) await rm(work, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // The containers' mount point for skopeo's private tmpfs (its blob-info cache lives below it).
    await mkdir('/var/lib/containers', { recursive: true });
    const tmp = join(work, 'tmp');
    const cfgDir = join(work, 'tsd-config');
    await mkdir(tmp, { recursive: true });
    await mkdir(cfgDir, { recursive: true });

    // ts-docker: no TS_DOCKER_* from the caller, an empty config dir, no colour, no terminal.
    const tsdEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TS_DOCKER_')));
    tsdEnv.NO_COLOR = '1';
    // 'tsd' is the ts-docker under test; 'alt' (with --compare) another build of it, alternated in the same run.
    const bins = { tsd: { bin: o.tsd, push: o.pushArgs, pull: o.pullArgs }, alt: { bin: o.compare, push: o.comparePushArgs, pull: o.comparePullArgs } };
    const tsdOf = (which) => (root, args, extra = {}) => timed(process.execPath, [bins[which].bin, '--root', root, '--config', cfgDir, ...args],
      { env: tsdEnv, rss: true, tmp, ...extra });
    const tsd = tsdOf('tsd');
    const tools = o.compare ? ['tsd', 'skopeo', 'alt'] : ['tsd', 'skopeo'];
    const skopeo = (args) => timed('unshare', ['-m', 'sh', '-c',
      'mount -t tmpfs tmpfs /var/lib/containers && exec skopeo "$@"', 'skopeo', '--insecure-policy', ...args],
    { rss: true, tmp });

    // 1. Images.
    const sizes = (o.quick ? QUICK : FULL).filter((s) => !o.images || o.images.has(s.id));
    const store = join(work, 'store');
    const base = [];
    const images = [];
    for (const s of sizes) {
      const t0 = Date.now();
      const img = await buildImage(store, { id: s.id, count: s.count, layerSize: s.layerSize });
      const name = `bench.local/bench/${s.id}:latest`;
      base.push([name, img.descriptor]);
      images.push({ ...s, name, ...img });
      log(`image ${s.id}: ${s.count} x ${s.layerSize} bytes generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    await writeLayout(store, base);
    settle();

    const transfers = images.length > 0 && ['push', 'pull', 're-push'].some((p) => phases.has(p));
    if (transfers) {
      registry = await startRegistry(join(work, 'registry'));
      log(`docker-registry on ${registry.host}, storage ${registry.storage}`);
    }
    const host = registry?.host;

    const samples = {};
    const add = (key, value) => { (samples[key] ??= []).push(value); };
    // Wall seconds, peak RSS, and CPU seconds (user + system, all threads) with the system part apart.
    const record = (op, img, tool, r) => {
      add(`${op}/${img.id}/${tool}`, r.wall);
      add(`${op}/${img.id}/${tool}-rss`, r.rssKiB);
      add(`${op}/${img.id}/${tool}-cpu`, r.cpu.user + r.cpu.sys);
      add(`${op}/${img.id}/${tool}-sys`, r.cpu.sys);
    };

    const clearSidecars = async () => {
      for (const d of ['sources', 'uploads', 'ingest']) await rm(join(store, d), { recursive: true, force: true });
    };

    for (let run = 0; transfers && run < o.runs; run++) {
      for (const img of images) {
        const layers = img.layers.map((l) => l.layer);
        // Rotate which tool goes first, run by run.
        const order = tools.map((_, i) => tools[(i + run) % tools.length]);
        let lastRepo;
        const pushTo = async (tool, repo, fresh) => {
          const target = `${host}/${repo}:latest`;
          if (tool !== 'skopeo') {
            await clearSidecars();
            await writeLayout(store, [...base, [target, img.descriptor]]);
            const r = await tsdOf(tool)(store, ['push', ...bins[tool].push, target]);
            const want = fresh ? /: Pushed$/gm : /: Layer already exists$/gm;
            if (count(r.stdout, want) !== layers.length) throw new Error(`ts-docker push ${target}: expected ${layers.length} x ${want}, got:\n${r.stdout}`);
            return r;
          }
          // skopeo's plain output does not say whether it skipped a blob. A fresh push went to an
          // emptied registry, so every blob had to be uploaded (else the manifest PUT fails);
          // a re-push with an empty blob-info cache can only HEAD and skip.
          return skopeo(['copy', '--dest-tls-verify=false', `oci:${store}:${img.name}`, `docker://${target}`]);
        };

        if (phases.has('push') || phases.has('pull') || phases.has('re-push')) {
          for (const tool of order) {
            const repo = `bench/${tool}-${img.id}-${run}`;
            await registry.empty();
            settle();
            const r = await pushTo(tool, repo, true);
            if (phases.has('push')) {
              record('push', img, tool, r);
            }
            lastRepo = repo;
          }
        }
        if (phases.has('pull')) {
          for (const tool of order) {
            const dest = join(work, `pull-${tool}`);
            await rm(dest, { recursive: true, force: true });
            const src = `${host}/${lastRepo}:latest`;
            settle();
            const r = tool !== 'skopeo'
              ? await tsdOf(tool)(dest, ['pull', ...bins[tool].pull, src])
              : await skopeo(['copy', '--src-tls-verify=false', `docker://${src}`, `oci:${dest}:latest`]);
            const have = await blobSizes(dest);
            for (const l of layers) if (have.get(l.digest) !== l.size) throw new Error(`${tool} pull ${src}: layer ${l.digest} missing or wrong size in ${dest}`);
            record('pull', img, tool, r);
            await rm(dest, { recursive: true, force: true });
          }
        }
        if (phases.has('re-push')) {
          for (const tool of order) {
            const r = await pushTo(tool, lastRepo, false);
            record('re-push', img, tool, r);
          }
        }
        // The machine's limits for this image, same run: hashing, one-stream upload, one-stream download,
        // and what Node itself needs to receive and hash the same blobs.
        if (phases.has('push') || phases.has('pull')) {
          const files = layers.map((l) => join(store, 'blobs', 'sha256', l.digest.slice(7)));
          add(`limit-hash/${img.id}`, (await timed('openssl', ['dgst', '-sha256', ...files])).wall);
          await registry.empty();
          settle();
          const repo = `bench/curl-${img.id}-${run}`;
          const script = ['set -e'];
          layers.forEach((l, i) => {
            script.push(`loc=$(curl -sS -f -X POST -o /dev/null -w '%header{location}' 'http://${host}/v2/${repo}/blobs/uploads/')`);
            script.push(`curl -sS -f -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' -T '${files[i]}' "$loc&digest=${l.digest}"`);
          });
          const scriptFile = join(tmp, 'curl-upload.sh');
          await writeFile(scriptFile, `${script.join('\n')}\n`);
          add(`limit-upload/${img.id}`, (await timed('sh', [scriptFile])).wall);
          const getArgs = ['-sS', '-f'];
          for (const l of layers) getArgs.push('-o', '/dev/null', `http://${host}/v2/${repo}/blobs/${l.digest}`);
          add(`limit-download/${img.id}`, (await timed('curl', getArgs)).wall);
          const nodeGet = [join(HERE, 'lib', 'node-get.cjs'), host, repo, String(PULL_CONCURRENCY), ...layers.map((l) => l.digest)];
          add(`limit-node-get/${img.id}`, (await timed(process.execPath, nodeGet, { env: tsdEnv })).wall);
        }
        log(`run ${run + 1}/${o.runs} ${img.id}: ${Object.entries(samples).filter(([k]) => k.includes(`/${img.id}/`) && !/-(rss|cpu|sys)$/.test(k))
          .map(([k, v]) => `${k.replace(`/${img.id}/`, ' ')} ${v.at(-1).toFixed(2)}`).join(', ')}`);
      }
    }
    await registry?.stop();
    registry = undefined;

    // 2. Startup of store-only commands against a bare node.
    let startup;
    if (phases.has('startup')) startup = await startupBench(work, o, tsd, o.compare ? tsdOf('alt') : undefined, log);

    // 3. Results.
    const results = [];
    const limits = [];
    for (const img of images) {
      const S = (k) => (samples[k] ? summary(samples[k]) : undefined);
      const hash = S(`limit-hash/${img.id}`);
      const up = S(`limit-upload/${img.id}`);
      const down = S(`limit-download/${img.id}`);
      const nodeGet = S(`limit-node-get/${img.id}`);
      const L = { image: img.id, label: `${img.count} x ${humanBytes(img.layerSize)}`, bytes: img.bytes };
      if (hash) limits.push({ what: 'openssl dgst -sha256', ...L, time: hash });
      if (up) limits.push({ what: 'curl upload (POST + PUT per blob)', ...L, time: up });
      if (down) limits.push({ what: 'curl GET (one process, all blobs)', ...L, time: down });
      if (nodeGet) limits.push({ what: `node GET + SHA-256 (${PULL_CONCURRENCY} connections, no files)`, ...L, time: nodeGet });
      for (const op of ['push', 'pull', 're-push']) {
        const t = S(`${op}/${img.id}/tsd`);
        const k = S(`${op}/${img.id}/skopeo`);
        if (!t || !k) continue;
        const limit = op === 'push' ? up : op === 'pull' ? down : undefined;
        const alt = S(`${op}/${img.id}/alt`);
        results.push({
          op, image: img.id, layers: img.count, layerSize: img.layerSize, bytes: img.bytes,
          tsd: t, skopeo: k, limit,
          tsdRssKiB: S(`${op}/${img.id}/tsd-rss`), skopeoRssKiB: S(`${op}/${img.id}/skopeo-rss`),
          tsdCpu: S(`${op}/${img.id}/tsd-cpu`), tsdSys: S(`${op}/${img.id}/tsd-sys`),
          skopeoCpu: S(`${op}/${img.id}/skopeo-cpu`), skopeoSys: S(`${op}/${img.id}/skopeo-sys`),
          ratioSkopeo: t.median / k.median,
          ratioLimit: limit ? t.median / limit.median : undefined,
          ...(alt ? { compare: alt, compareRssKiB: S(`${op}/${img.id}/alt-rss`), compareCpu: S(`${op}/${img.id}/alt-cpu`), compareSys: S(`${op}/${img.id}/alt-sys`), ratioCompare: alt.median / t.median, ratioCompareSkopeo: alt.median / k.median } : {}),
          targetSkopeo: TARGETS[op].skopeo, targetLimit: TARGETS[op].limit,
        });
      }
    }
    const doc = {
      date: new Date().toISOString(), mode: o.quick ? 'quick' : 'full', runs: o.runs, machine: machine(),
      loadAverage: { before: loadBefore, after: loadavg()[0] }, revision: revision(o.tsd),
      tsdBin: o.tsd.startsWith(`${REPO}/`) ? relative(REPO, o.tsd) : o.tsd, tsdArgs: { push: o.pushArgs, pull: o.pullArgs },
      ...(o.compare ? { compare: { bin: o.compare, revision: revision(o.compare), push: o.comparePushArgs, pull: o.comparePullArgs } } : {}),
      images: images.map((i) => ({ id: i.id, layers: i.count, layerSize: i.layerSize, bytes: i.bytes, manifest: i.descriptor.digest })),
      results, limits, startup, samples, elapsedSeconds: (Date.now() - started) / 1000,
    };
    const md = markdown(doc);
    await mkdir(dirname(o.out), { recursive: true });
    await writeFile(o.out, `${JSON.stringify(doc, null, 2)}\n`);
    await writeFile(o.out.replace(/\.json$/, '.md'), `${md}\n`);
    console.log(md);
    log(`wrote ${relative(process.cwd(), o.out)} in ${doc.elapsedSeconds.toFixed(0)} s`);
  } finally {
    if (registry) await registry.stop().catch(() => undefined);
    await stopAll();
    if (!o.keep) await rm(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
}

/** `images` on 1,000 names, `tag`, `rmi`, against `node -e ''`, rotated run by run. */
async function startupBench(work, o, tsd, alt, log) {
  const root = join(work, 'startup-store');
  const NAMES = 1000;
  const IMAGES = 1000;
  const shared = await buildImage(root, { id: 'startup-layer', count: 1, layerSize: 4096 });
  const named = [];
  for (let i = 0; i < IMAGES; i++) {
    const img = await buildImage(root, { id: `startup-${i}`, label: `startup-${i}`, layers: shared.layers });
    named.push([`bench.local/startup/app${i}:v1`, img.descriptor]);
  }
  await writeLayout(root, named.slice(0, NAMES));
  const check = await tsd(root, ['images', '-q']);
  if (check.stdout.trim().split('\n').length !== NAMES) throw new Error(`images -q listed ${check.stdout.trim().split('\n').length} rows, expected ${NAMES}`);
  const cmds = {
    "node -e ''": () => timed(process.execPath, ['-e', ''], { rss: true, tmp: join(work, 'tmp') }),
  };
  for (const [prefix, run] of [['ts-docker', tsd], ['compare', alt]]) {
    if (!run) continue;
    cmds[`${prefix} images (${NAMES} names)`] = () => run(root, ['images']);
    cmds[`${prefix} tag`] = (i) => run(root, ['tag', 'bench.local/startup/app0:v1', `bench.local/startup/${prefix}:t${i}`]);
    cmds[`${prefix} rmi`] = (i) => run(root, ['rmi', `bench.local/startup/${prefix}:t${i}`]);
  }
  const labels = Object.keys(cmds);
  const times = Object.fromEntries(labels.map((l) => [l, []]));
  const rss = Object.fromEntries(labels.map((l) => [l, []]));
  const WARMUP = 2;
  for (let i = 0; i < o.startupRuns + WARMUP; i++) {
    // Rotate where node -e '' runs among the others (tag must come before its rmi).
    const order = [...labels.slice(1)];
    order.splice(i % labels.length, 0, labels[0]);
    for (const l of order) {
      const r = await cmds[l](i);
      if (i >= WARMUP) {
        times[l].push(r.wall);
        rss[l].push(r.rssKiB);
      }
    }
  }
  const baseTime = summary(times[labels[0]]);
  const commands = labels.map((l) => {
    const t = summary(times[l]);
    const key = l.includes('images') ? 'images' : l.includes(' tag') ? 'tag' : l.includes(' rmi') ? 'rmi' : undefined;
    return { label: l, time: t, rssKiB: summary(rss[l]), ratio: t.median / baseTime.median, target: key ? STARTUP_TARGETS[key] : undefined, samples: times[l] };
  });
  log(`startup: ${commands.map((c) => `${c.label} ${c.time.median.toFixed(3)}`).join(', ')}`);
  return { names: NAMES, images: IMAGES, runs: o.startupRuns, commands };
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  await stopAll();
  process.exit(1);
});
