/**
 * Black-box helpers for the e2e and interop suites: run the BUILT CLI as a user would, make
 * throw-away stores, fingerprint a store byte for byte, run the peer tools (skopeo,
 * oci-image-tool, tar) and fail loudly when one of them is missing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

/** The repository root (where package.json lives). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI shim users run; it imports `dist/cli/main.js`. */
export const BIN = join(REPO_ROOT, 'bin', 'ts-docker.js');
/** The built entry the shim needs. */
export const BUILT_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** The committed fixture: a docker-archive of `apa000ex22:latest`. */
export const FIXTURE = join(REPO_ROOT, 'fixtures', 'apa000ex22.tar');

/** What a finished process left behind. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as raw bytes (for `save` to stdout). */
  stdoutBuffer: Buffer;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** The store, passed as `--root`. */
  root?: string;
  /** Bytes written to stdin (stdin is closed right after; with neither input nor stdinFile it is empty). */
  input?: string | Buffer;
  /** A file streamed to stdin, as `< FILE` would. */
  stdinFile?: string;
  /** Extra environment (on top of a cleaned copy of ours, with NO_COLOR=1). */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the process after this long (default 120 s); the result then says so on stderr. */
  timeoutMs?: number;
}

/** Environment variables a developer may have set that would change what the CLI does (removed by {@link runCli}). */
export const SCRUBBED_ENV = ['TS_DOCKER_ROOT', 'TS_DOCKER_CONFIG', 'TS_DOCKER_DEBUG', 'FORCE_COLOR', 'SOURCE_DATE_EPOCH', 'NODE_OPTIONS'];

/** Throws a loud error unless `npm run build` has produced the CLI. */
export function requireBuilt(): void {
  if (!existsSync(BUILT_MAIN)) throw new Error(`missing ${relative(REPO_ROOT, BUILT_MAIN)}: run npm run build`);
}

/** Returns the fixture path, or throws a loud error saying how to make it. */
export function requireFixture(): string {
  if (!existsSync(FIXTURE)) {
    throw new Error(`missing fixture ${relative(REPO_ROOT, FIXTURE)}: run npm run build && npm run fixture (needs busybox-static)`);
  }
  return FIXTURE;
}

/** Spawns `cmd args`, captures everything, never throws on a non-zero exit. */
function spawnCaptured(cmd: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer; stdinFile?: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // A child that exits without reading all of stdin must not crash the test with EPIPE.
    child.stdin.on('error', () => undefined);
    if (opts.stdinFile !== undefined) {
      const src = createReadStream(opts.stdinFile);
      src.on('error', (e) => {
        child.stdin.destroy();
        reject(e);
      });
      src.pipe(child.stdin);
    } else {
      child.stdin.end(opts.input ?? '');
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBuffer = Buffer.concat(out);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) stderr += `\n[test harness] ${cmd} ${args.join(' ')}: killed after ${opts.timeoutMs} ms\n`;
      else if (signal) stderr += `\n[test harness] ${cmd} ${args.join(' ')}: killed by ${signal}\n`;
      resolvePromise({ code: code ?? -1, stdout: stdoutBuffer.toString('utf8'), stderr, stdoutBuffer });
    });
  });
}

/**
 * Runs `node bin/ts-docker.js [--root ROOT] ARGS...` as a user would. Never throws on a
 * non-zero exit; NO_COLOR=1 unless `env` says otherwise.
 */
export async function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  requireBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUBBED_ENV) delete env[k];
  Object.assign(env, { NO_COLOR: '1' }, opts.env ?? {});
  const argv = [BIN, ...(opts.root !== undefined ? ['--root', opts.root] : []), ...args];
  return spawnCaptured(process.execPath, argv, {
    env,
    cwd: opts.cwd,
    input: opts.input,
    stdinFile: opts.stdinFile,
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
}

/** Like {@link runCli} but throws (with both streams) unless the exit code is 0. */
export async function runOk(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runCli(args, opts);
  if (r.code !== 0) {
    throw new Error(`ts-docker ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

const sandboxes: string[] = [];

/** A fresh, empty temporary directory, removed after the test file. */
export async function makeSandbox(): Promise<string> {
  // realpath: /tmp may be a symlink, and path comparisons with the CLI's output must agree.
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'ts-docker-e2e-')));
  sandboxes.push(dir);
  return dir;
}

/**
 * A fresh store directory `<sandbox>/root` (created, empty), removed after the test file.
 * Its parent is a private sandbox, so `<root>/../evil` lands somewhere we can check and clean.
 */
export async function makeRoot(): Promise<string> {
  const root = join(await makeSandbox(), 'root');
  await mkdir(root);
  return root;
}

/** Removes every sandbox made so far (runs automatically after each test file). */
export async function cleanupSandboxes(): Promise<void> {
  const dirs = sandboxes.splice(0);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}

afterAll(cleanupSandboxes);

/**
 * Every file under `dir` (recursively) as relative path -> sha256 of its bytes; symlinks as
 * `symlink:<target>`. Directories themselves are not entries. A missing `dir` gives an empty map.
 */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const walk = async (abs: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && abs === dir) return;
      throw e;
    }
    for (const ent of entries) {
      const p = join(abs, ent.name);
      const rel = relative(dir, p);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isSymbolicLink()) result.set(rel, `symlink:${await readlink(p)}`);
      else if (ent.isFile()) result.set(rel, createHash('sha256').update(await readFile(p)).digest('hex'));
      else result.set(rel, 'special');
    }
  };
  await walk(dir);
  return new Map([...result.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * {@link snapshotTree} of a store, less the claim files of partial downloads
 * (`ingest/partial/<hex>.lock` and their `.owner` records, store/lock.ts): released claims may
 * leave them for the next process to sweep. The partial downloads themselves are compared.
 */
export async function snapshotStore(root: string): Promise<Map<string, string>> {
  const all = await snapshotTree(root);
  for (const k of [...all.keys()]) if (/^ingest\/partial\/[0-9a-f]{64}\.(lock|owner)$/.test(k)) all.delete(k);
  return all;
}

/**
 * Runs a tool (skopeo, oci-image-tool, tar...) with output captured; never throws on a non-zero
 * exit. Its environment is ours plus `env`, without the variables named in `unset`.
 */
export async function sh(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; unset?: string[]; input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of opts.unset ?? []) delete env[k];
  return spawnCaptured(cmd, args, {
    env: { ...env, ...(opts.env ?? {}) },
    cwd: opts.cwd,
    input: opts.input,
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
}

/** Like {@link sh} but throws (with both streams) unless the exit code is 0. */
export async function shOk(cmd: string, args: string[], opts: Parameters<typeof sh>[2] = {}): Promise<RunResult> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The Debian package that provides each tool the suites use. */
const TOOL_PACKAGES: Record<string, string> = {
  skopeo: 'skopeo',
  'oci-image-tool': 'oci-image-tool',
  umoci: 'umoci',
  busybox: 'busybox-static',
  'docker-registry': 'docker-registry',
  nginx: 'nginx-light',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
  tar: 'tar',
  bash: 'bash',
};

/** The absolute path of `name` on PATH (plus the sbin dirs), or undefined. */
export async function whichTool(name: string): Promise<string | undefined> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const d of dirs) {
    const p = join(d, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Returns the tool's path, or throws `missing tool X: run apt-get install -y PKG` (never skips). */
export async function requireTool(name: string): Promise<string> {
  const found = await whichTool(name);
  if (!found) throw new Error(`missing tool ${name}: run apt-get install -y ${TOOL_PACKAGES[name] ?? name}`);
  return found;
}

/** skopeo with the flags a throw-away test machine needs (no policy.json required). */
export async function skopeo(args: string[]): Promise<RunResult> {
  const bin = await requireTool('skopeo');
  return sh(bin, ['--insecure-policy', ...args]);
}

/** Splits docker's `images` table into rows of cells (cells are separated by 2+ spaces). */
export function parseTable(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const split = (l: string): string[] => l.trim().split(/\s{2,}/);
  return { header: lines[0] === undefined ? [] : split(lines[0]), rows: lines.slice(1).map(split) };
}

/** Non-empty lines of an output. */
export function lines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.trim() !== '');
}

/** `<root>/index.json`, parsed. */
export async function readIndex(root: string): Promise<{ schemaVersion: number; manifests?: Array<{ mediaType?: string; digest: string; size: number; annotations?: Record<string, string> }> }> {
  return JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as never;
}

/** Files in `<root>/blobs/sha256` (empty when the folder is missing). */
export async function listBlobs(root: string): Promise<string[]> {
  try {
    return (await readdir(join(root, 'blobs', 'sha256'))).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A 64-hex digest with its algorithm. */
export const FULL_ID = /^sha256:[0-9a-f]{64}$/;
/** What `images` shows as IMAGE ID. */
export const SHORT_ID = /^[0-9a-f]{12}$/;
/** docker's humanized CREATED column (go-units HumanDuration + " ago"). */
export const CREATED_SINCE =
  /^(Less than a second|1 second|\d+ seconds|About a minute|\d+ minutes|About an hour|\d+ hours|\d+ days|\d+ weeks|\d+ months|\d+ years) ago$/;

/** The full reference the store records for the fixture's name. */
export const FIXTURE_REF = 'docker.io/library/apa000ex22:latest';

/** Loads the fixture into `root` and returns the image's full ID (`sha256:...`), read from the layout. */
export async function loadFixture(root: string): Promise<string> {
  await runOk(['load', '-i', requireFixture()], { root });
  return idFromStore(root, FIXTURE_REF);
}

/**
 * The IMAGE ID (config digest, `sha256:<64 hex>`) of the image the store names `fullRef`
 * (e.g. `docker.io/library/apa000ex22:latest`), read straight from the OCI layout on disk:
 * index.json -> manifest blob -> config descriptor. Independent of the CLI's own output.
 */
export async function idFromStore(root: string, fullRef: string): Promise<string> {
  const index = await readIndex(root);
  const entry = (index.manifests ?? []).find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === fullRef);
  if (!entry) throw new Error(`${root}/index.json has no entry named ${fullRef}: ${JSON.stringify(index)}`);
  const manifest = JSON.parse(await readFile(join(root, 'blobs', 'sha256', entry.digest.replace(/^sha256:/, '')), 'utf8')) as {
    config?: { digest: string };
    manifests?: Array<{ digest: string }>;
  };
  if (manifest.config) return manifest.config.digest;
  // An index: the first platform manifest's config.
  const first = manifest.manifests?.[0];
  if (!first) throw new Error(`manifest ${entry.digest} has neither config nor manifests`);
  const inner = JSON.parse(await readFile(join(root, 'blobs', 'sha256', first.digest.replace(/^sha256:/, '')), 'utf8')) as { config: { digest: string } };
  return inner.config.digest;
}

/** The manifest digest index.json records for `fullRef`. */
export async function manifestDigestFromStore(root: string, fullRef: string): Promise<string> {
  const entry = (await readIndex(root)).manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === fullRef);
  if (!entry) throw new Error(`${root}/index.json has no entry named ${fullRef}`);
  return entry.digest;
}

/** The full reference names in index.json, sorted. */
export async function namesInStore(root: string): Promise<string[]> {
  return ((await readIndex(root)).manifests ?? [])
    .map((m) => m.annotations?.['org.opencontainers.image.ref.name'])
    .filter((n): n is string => typeof n === 'string')
    .sort();
}

/** `sha256:abc...` -> the 12 hex digits `images` shows. */
export function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** A fresh directory tree (for `import DIR`): `files` maps relative paths to contents. */
export async function makeRootfsDir(files: Record<string, string>): Promise<string> {
  const dir = join(await makeSandbox(), 'rootfs');
  await mkdir(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/**
 * Imports a directory holding one file with `content` as `name` (or unnamed) and returns the
 * printed ID (`sha256:...`).
 */
export async function importDir(root: string, content: string, name?: string): Promise<string> {
  const dir = await makeRootfsDir({ 'etc/content.txt': content });
  const r = await runOk(['import', dir, ...(name ? [name] : [])], { root });
  const id = r.stdout.trim();
  if (!FULL_ID.test(id)) throw new Error(`import printed ${JSON.stringify(r.stdout)}, not sha256:<64 hex>`);
  return id;
}

/** Asserts the exit code, showing both streams when it is wrong. */
export function expectExit(r: RunResult, code: number): void {
  expect(r.code, `exit code (stdout: ${JSON.stringify(r.stdout.slice(0, 2000))}, stderr: ${JSON.stringify(r.stderr.slice(0, 2000))})`).toBe(code);
}

/**
 * Asserts docker's failure shape: exit code 1, stderr exactly one line (trimmed, no stack
 * trace) containing `text`.
 */
export function expectOneLineError(r: RunResult, text: string): void {
  expectExit(r, 1);
  const err = r.stderr.trim();
  expect(err.split('\n'), `stderr must be one line: ${JSON.stringify(r.stderr)}`).toHaveLength(1);
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).toContain(text);
}
