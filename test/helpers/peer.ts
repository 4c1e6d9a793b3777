/**
 * Images made by the independent peers (umoci, skopeo), never by ts-docker: the helpers'
 * own tests use them, so the tar surgery is proven on archives our code did not write.
 */
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool, sh, shOk, skopeo } from './cli.js';

/**
 * Builds a tiny busybox image in a new OCI layout `<dir>/layout` with umoci, tagged `latest`,
 * and returns `oci:<layout>:latest`.
 */
export async function umociImage(dir: string): Promise<string> {
  const umoci = await requireTool('umoci');
  const busybox = await requireTool('busybox');
  const layout = join(dir, 'layout');
  const rootfs = join(dir, 'rootfs-src');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'www'), { recursive: true });
  await copyFile(busybox, join(rootfs, 'bin', 'busybox'));
  await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
  await symlink('busybox', join(rootfs, 'bin', 'sh'));
  await writeFile(join(rootfs, 'www', 'index.html'), '<h1>made by umoci</h1>\n');
  await shOk(umoci, ['init', '--layout', layout]);
  await shOk(umoci, ['new', '--image', `${layout}:latest`]);
  await shOk(umoci, ['insert', '--image', `${layout}:latest`, join(rootfs, 'bin'), '/bin']);
  await shOk(umoci, ['insert', '--image', `${layout}:latest`, join(rootfs, 'www'), '/www']);
  await shOk(umoci, ['config', '--image', `${layout}:latest`, '--os', 'linux', '--architecture', 'amd64', '--config.cmd', 'sh']);
  return `oci:${layout}:latest`;
}

/** skopeo copy SRC DST, throwing with skopeo's output on failure. */
export async function skopeoCopy(src: string, dst: string): Promise<void> {
  const r = await skopeo(['copy', src, dst]);
  if (r.code !== 0) throw new Error(`skopeo copy ${src} ${dst} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
}

/** `tar -tf FILE` member names, by GNU tar (an independent reader). */
export async function tarList(file: string): Promise<string[]> {
  const r = await sh('tar', ['-tf', file]);
  if (r.code !== 0) throw new Error(`tar -tf ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}
