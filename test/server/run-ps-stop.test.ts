// The seed's `run -d -p HOST:5000 registry` (the built-in registry, detached), ps, logs, stop, rm;
// `run` of any other image says ts-docker runs no containers; `registry serve --tls-cert/--tls-key`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFixture, makeRoot, makeSandbox, requireTool } from '../helpers/cli.js';
import { freePort, waitUntil } from '../helpers/daemon.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect } from '../helpers/skopeo.js';
import { startTsRegistry } from '../helpers/ts-registry.js';

const started: Array<{ root: string; id: string }> = [];
afterAll(async () => {
  // Stop every registry a test started (by its own id), even when the test failed half-way.
  for (const s of started) await tsd(['stop', s.id], { root: s.root });
});

describe('run -d -p HOST:5000 registry', () => {
  it('starts the built-in registry detached; ps, push to it, logs, stop, rm; -v keeps the storage', async () => {
    const root = await makeRoot();
    const port = await freePort();
    const vol = join(await makeSandbox(), 'regdata');
    const r = await tsd(['run', '-d', '-p', `127.0.0.1:${port}:5000`, '-v', `${vol}:/var/lib/registry`, '--name', 'myreg', 'registry'], { root });
    expect(r.code, show(r)).toBe(0);
    const id = r.stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    started.push({ root, id });

    const ps = await tsd(['ps'], { root });
    expect(ps.stdout.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(ps.stdout).toContain(id.slice(0, 12));
    expect(ps.stdout).toContain(`127.0.0.1:${port}->5000/tcp`);
    expect(ps.stdout).toMatch(/myreg\n$/);
    // docker's STATUS of a running container.
    expect(ps.stdout).toMatch(/ {3}Up (Less than a second|1 second|\d+ seconds) {3,}127\.0\.0\.1:/);
    expect((await tsd(['ps', '-q'], { root })).stdout).toBe(`${id.slice(0, 12)}\n`);

    await loadFixture(root);
    const name = `127.0.0.1:${port}/nyapacchi:13`;
    expect((await tsd(['tag', 'apa000ex22', name], { root })).code).toBe(0);
    const push = await tsd(['push', name], { root });
    expect(push.code, show(push)).toBe(0);
    expect((await skopeoInspect(`docker://${name}`)).Digest).toMatch(/^sha256:/);
    expect(existsSync(join(vol, 'repositories', 'nyapacchi', '_manifests', 'tags', '13'))).toBe(true);

    const logs = await tsd(['logs', 'myreg'], { root });
    expect(logs.stdout).toContain(`listening on 127.0.0.1:${port}`);
    expect(logs.stdout).toMatch(/"PUT \/v2\/nyapacchi\/manifests\/13 HTTP\/1\.1" 201/);

    // Same name again: docker's conflict.
    const dup = await tsd(['run', '-d', '--name', 'myreg', 'registry'], { root });
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('is already in use');

    const rmRunning = await tsd(['rm', 'myreg'], { root });
    expect(rmRunning.code).not.toBe(0);
    const stop = await tsd(['stop', id.slice(0, 12)], { root });
    expect(stop.code, show(stop)).toBe(0);
    expect(stop.stdout).toBe(`${id.slice(0, 12)}\n`);
    expect((await tsd(['ps', '-q'], { root })).stdout).toBe('');
    // Stopped by SIGTERM, the registry recorded its own exit code 0.
    expect((await tsd(['ps', '-a'], { root })).stdout).toMatch(/ {3}Exited \(0\) (Less than a second|1 second|\d+ seconds) ago {3,}myreg\n/);
    expect((await tsd(['rm', 'myreg'], { root })).code).toBe(0);
    expect((await tsd(['ps', '-a', '-q'], { root })).stdout).toBe('');
    // The -v folder outlives the container, as a docker volume does.
    expect(existsSync(join(vol, 'repositories', 'nyapacchi'))).toBe(true);
  });

  it('a registry killed from outside (kill -9) shows Exited (137), as docker shows it', async () => {
    const root = await makeRoot();
    const r = await tsd(['run', '-d', '-p', `127.0.0.1:${await freePort()}:5000`, '--name', 'killed', 'registry'], { root });
    expect(r.code, show(r)).toBe(0);
    const id = r.stdout.trim();
    started.push({ root, id });
    const pid = Number(await readFile(join(root, 'containers', id, 'pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitUntil('the killed registry leaves ps', async () => ((await tsd(['ps', '-q'], { root })).stdout.includes(id.slice(0, 12)) ? undefined : true));
    const all = await tsd(['ps', '-a'], { root });
    expect(all.stdout).toMatch(/ {3}Exited \(137\) (Less than a second|1 second|\d+ seconds) ago {3,}killed\n/);
    expect((await tsd(['rm', 'killed'], { root })).code).toBe(0);
  });

  it('a port already in use: run fails with the reason; stop of an unknown container fails', async () => {
    const root = await makeRoot();
    const reg = await startTsRegistry();
    try {
      const r = await tsd(['run', '-d', '-p', `127.0.0.1:${reg.port}:5000`, 'registry'], { root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/EADDRINUSE|address already in use/);
      expect((await tsd(['ps', '-a', '-q'], { root })).stdout).toBe('');
    } finally {
      await reg.stop();
    }
    const s = await tsd(['stop', 'nope'], { root });
    expect(s.code).not.toBe(0);
    expect(s.stderr).toContain('No such container: nope');
  });

  it('run with any other image says ts-docker runs no containers', async () => {
    const root = await makeRoot();
    for (const image of ['nginx', 'apa000ex22', 'myregistry:1']) {
      const r = await tsd(['run', '-d', '-p', '8080:80', image], { root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('ts-docker runs no containers');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const p = await tsd(['run', '-d', '-p', '8080:80', 'registry'], { root });
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain('HOST_PORT:5000');
  });
});

describe('registry serve --tls-cert/--tls-key', () => {
  it('serves HTTPS that skopeo (with the CA) and a TLS client accept', async () => {
    const openssl = await requireTool('openssl');
    const dir = await makeSandbox();
    execFileSync(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const reg = await startTsRegistry({ extra: ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')] });
    try {
      expect(reg.log()).toContain('(https,');
      const { request } = await import('node:https');
      const { readFile } = await import('node:fs/promises');
      const ca = await readFile(join(dir, 'cert.pem'));
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: reg.port, path: '/v2/', ca, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await reg.stop();
    }
  });
});
