// `npm run demo` (fixtures/demo.sh) end to end, as a new user runs it: the seed's walkthrough,
// then the built-in registry started the seed's way (`run -d -p PORT:5000 registry`), push, rmi,
// pull, ps, stop. Every run has its own store, temp, home and config dirs in a sandbox, and a
// random loopback port (DEMO_PORT) instead of the user's 5000.
import { mkdir, readdir } from 'node:fs/promises';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../helpers/cli.js';
import { REPO_ROOT, SCRUBBED_ENV, idFromStore, lines, loadFixture, makeRoot, makeSandbox, parseTable, requireFixture, requireTool, sh } from '../helpers/cli.js';
import { freePort, startDaemon, tcpOpen, waitUntil } from '../helpers/daemon.js';
import { show, tsd } from '../helpers/remote-cli.js';

const DEMO = join(REPO_ROOT, 'fixtures', 'demo.sh');

/** A sandbox for one demo run: the store it keeps (DEMO_ROOT), and the environment that points everything else into the sandbox. */
async function demoSandbox(extra: Record<string, string>): Promise<{ store: string; tmp: string; env: Record<string, string> }> {
  requireFixture();
  const dir = await makeSandbox();
  const store = join(dir, 'store');
  const tmp = join(dir, 'tmp');
  const home = join(dir, 'home');
  for (const d of [store, tmp, home]) await mkdir(d);
  const env = {
    DEMO_ROOT: store,
    TMPDIR: tmp,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    NO_COLOR: '1',
    ...extra,
  };
  return { store, tmp, env };
}

/** Variables of the developer's shell that would change what the demo does. */
const UNSET = [...SCRUBBED_ENV, 'DEMO_REGISTRY', 'DEMO_PORT', 'DEMO_ROOT'];

/** `bash fixtures/demo.sh` (what `npm run demo` runs) in `env`. */
async function runDemo(env: Record<string, string>): Promise<RunResult> {
  return sh('bash', [DEMO], { cwd: REPO_ROOT, env, unset: UNSET, timeoutMs: 240_000 });
}

/** What the walkthrough and the registry part must show, in this order, for a registry on `port`. */
function expectWalkthrough(r: RunResult, port: number): void {
  const out = lines(r.stdout);
  const name = `localhost:${port}/nyapacchi:13`;
  const at = (text: string, from = 0): number => {
    const i = out.findIndex((l, n) => n >= from && l === text);
    expect(i, `"${text}" after line ${from} in\n${r.stdout}`).toBeGreaterThanOrEqual(0);
    return i;
  };
  let i = at('$ ts-docker load -i fixtures/apa000ex22.tar');
  i = at('Loaded image: apa000ex22:latest', i);
  i = at('$ ts-docker tag apa000ex22 zoozoo.coomm/nyapacchi:13', i);
  i = at('$ ts-docker rmi zoozoo.coomm/nyapacchi:13', i);
  i = at('Untagged: zoozoo.coomm/nyapacchi:13', i);
  i = at('blobs left in the store: 0', i);
  i = at(`$ ts-docker push ${name}`, i);
  i = at(`The push refers to repository [localhost:${port}/nyapacchi]`, i);
  expect(out[i + 1]).toMatch(/^[0-9a-f]{12}: Pushed$/);
  expect(out[i + 2]).toMatch(/^13: digest: sha256:[0-9a-f]{64} size: \d+$/);
  i = at(`$ ts-docker rmi ${name} apa000ex22`, i);
  i = at(`$ ts-docker pull ${name}`, i);
  i = at(`Status: Downloaded newer image for ${name}`, i);
  at('demo done.', i);
}

describe('npm run demo (fixtures/demo.sh)', () => {
  it('by default starts the built-in registry with run -d -p PORT:5000 registry, pushes, pulls back, shows ps, stops it', async () => {
    const port = await freePort();
    const { store, tmp, env } = await demoSandbox({ DEMO_PORT: String(port) });
    const r = await runDemo(env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    expectWalkthrough(r, port);
    const out = lines(r.stdout);
    const run = out.indexOf(`$ ts-docker run -d -p ${port}:5000 registry`);
    expect(run, r.stdout).toBeGreaterThanOrEqual(0);
    const id = out[run + 1]!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // `ps` while it runs: the seed's port mapping.
    const ps = out.indexOf('$ ts-docker ps');
    expect(ps).toBeGreaterThan(run);
    expect(out[ps + 1]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(out[ps + 2]).toContain(id.slice(0, 12));
    expect(out[ps + 2]).toContain(`127.0.0.1:${port}->5000/tcp`);
    // Stopped at the end.
    const stop = out.indexOf(`$ ts-docker stop ${id.slice(0, 12)}`);
    expect(stop).toBeGreaterThan(ps);
    expect(out[stop + 1]).toBe(id.slice(0, 12));
    expect(await tcpOpen(port), 'the registry no longer listens').toBe(false);

    // The store the demo kept (DEMO_ROOT): the pulled image, same IMAGE ID as the fixture, and the stopped registry.
    const fixtureId = await loadFixture(await makeRoot());
    expect(await idFromStore(store, `localhost:${port}/nyapacchi:13`)).toBe(fixtureId);
    expect((await tsd(['ps', '-q'], { root: store })).stdout).toBe('');
    const all = parseTable((await tsd(['ps', '-a'], { root: store })).stdout);
    expect(all.rows.map((row) => row[0])).toEqual([id.slice(0, 12)]);
    expect(all.rows[0]![4]).toMatch(/^Exited \(0\) .+ ago$/);
    expect(await readdir(tmp), 'the demo removed its temp dirs').toEqual([]);
  });

  it('when the port is taken, says so on one line and uses a free loopback port', async () => {
    const busy = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(busy, '127.0.0.1', resolve));
    try {
      const { env } = await demoSandbox({ DEMO_PORT: String(busy) });
      const r = await runDemo(env);
      expect(r.code, show(r)).toBe(0);
      const note = lines(r.stdout).find((l) => l.startsWith('NOTE: '));
      const m = new RegExp(`^NOTE: port ${busy} is already in use on this machine; the demo's registry listens on port (\\d+) instead\\.$`).exec(note ?? '');
      expect(m, r.stdout).not.toBeNull();
      const port = Number(m![1]);
      expect(port).not.toBe(busy);
      expect(r.stdout).toContain(`$ ts-docker run -d -p ${port}:5000 registry`);
      expectWalkthrough(r, port);
      expect(await tcpOpen(port)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('interrupted (SIGTERM) while the registry runs: the trap stops it and removes the temp dirs', async () => {
    const port = await freePort();
    const { store, tmp, env } = await demoSandbox({ DEMO_PORT: String(port) });
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const k of UNSET) delete childEnv[k];
    const demo = startDaemon('bash', [DEMO], { cwd: REPO_ROOT, env: { ...childEnv, ...env } });
    // Killed right after `ps` showed the running registry (the push and pull are still to come).
    await waitUntil('the demo to show the running registry', () => (demo.output().includes(`127.0.0.1:${port}->5000/tcp`) ? true : undefined), {
      timeoutMs: 120_000,
      context: () => demo.output(),
    });
    expect(await tcpOpen(port)).toBe(true);
    demo.child.kill('SIGTERM');
    const exit = await demo.exited;
    expect(exit, demo.output()).toEqual({ code: 143, signal: null });
    expect(demo.output()).not.toContain('demo done.');
    expect(await tcpOpen(port), 'the registry was stopped').toBe(false);
    expect((await tsd(['ps', '-q'], { root: store })).stdout).toBe('');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('DEMO_REGISTRY=docker-registry runs the same push and pull against docker-registry and stops it', async () => {
    await requireTool('docker-registry');
    const port = await freePort();
    const { env } = await demoSandbox({ DEMO_PORT: String(port), DEMO_REGISTRY: 'docker-registry' });
    const r = await runDemo(env);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`Starting docker-registry (DEMO_REGISTRY=docker-registry) on 127.0.0.1:${port}`);
    expect(r.stdout).not.toContain('$ ts-docker run');
    expectWalkthrough(r, port);
    expect(await tcpOpen(port)).toBe(false);
  });

  it('an unknown DEMO_REGISTRY fails with one line and exit 1', async () => {
    const { env } = await demoSandbox({ DEMO_REGISTRY: 'harbor' });
    const r = await runDemo(env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('demo: DEMO_REGISTRY must be builtin or docker-registry, not "harbor"\n');
  });
});
