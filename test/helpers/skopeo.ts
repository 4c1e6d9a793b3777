/**
 * skopeo as the independent peer of the registry suites, run with an EMPTY blob-info cache
 * (REGISTRY-NOTES: as root skopeo remembers where it saw blobs and then cross-mounts instead of
 * uploading, which would make "skopeo cannot push a big layer through nginx" pass or fail by
 * history), `--insecure-policy`, and TLS verification off for every `docker://` side.
 */
import type { RunResult } from './cli.js';
import { requireTool, sh } from './cli.js';

let isolation: Promise<boolean> | undefined;

/** Whether `unshare -m` + a tmpfs over /var/lib/containers works here (checked once). */
export function canIsolateCache(): Promise<boolean> {
  isolation ??= (async () => {
    const unshare = await requireTool('unshare').catch(() => undefined);
    if (!unshare) return false;
    const r = await sh(unshare, ['-m', 'sh', '-c', 'mkdir -p /var/lib/containers && mount -t tmpfs tmpfs /var/lib/containers && test ! -e /var/lib/containers/cache']);
    return r.code === 0;
  })();
  return isolation;
}

/**
 * Inserts the TLS flags a docker:// reference on 127.0.0.1 needs after the subcommand:
 * `copy` gets `--src-tls-verify=false` / `--dest-tls-verify=false` for docker:// sides,
 * other subcommands with a docker:// argument get `--tls-verify=false`.
 */
export function withTlsFlags(args: string[]): string[] {
  const [sub, ...rest] = args;
  if (sub === undefined) return args;
  const refs = rest.filter((a) => !a.startsWith('-'));
  const flags: string[] = [];
  if (sub === 'copy' || sub === 'sync') {
    const [src, dst] = refs;
    if (src?.startsWith('docker://') && !rest.some((a) => a.startsWith('--src-tls-verify'))) flags.push('--src-tls-verify=false');
    if (dst?.startsWith('docker://') && !rest.some((a) => a.startsWith('--dest-tls-verify'))) flags.push('--dest-tls-verify=false');
  } else if (refs.some((a) => a.startsWith('docker://')) && !rest.some((a) => a.startsWith('--tls-verify'))) {
    flags.push('--tls-verify=false');
  }
  return [sub, ...flags, ...rest];
}

/**
 * `skopeo --insecure-policy ARGS...` with an empty blob-info cache and the TLS flags of
 * {@link withTlsFlags}. Never throws on a non-zero exit. Without `unshare` it falls back to
 * plain skopeo and says so loudly on stderr (the cache may then cross-mount blobs).
 */
export async function skopeo(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const bin = await requireTool('skopeo');
  const full = ['--insecure-policy', ...withTlsFlags(args)];
  if (await canIsolateCache()) {
    return sh('unshare', ['-m', 'sh', '-c', 'mkdir -p /var/lib/containers && mount -t tmpfs tmpfs /var/lib/containers && exec "$0" "$@"', bin, ...full], opts);
  }
  process.stderr.write(
    '\n[test harness] WARNING: cannot run skopeo with an empty blob-info cache (unshare -m + tmpfs failed; needs root).\n' +
      '[test harness] Running plain skopeo: it may cross-mount blobs it saw before instead of uploading them.\n\n',
  );
  return sh(bin, full, opts);
}

/** Like {@link skopeo} but throws with skopeo's output unless it exits 0. */
export async function skopeoOk(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await skopeo(args, opts);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** What `skopeo inspect` prints (the fields the suites read). */
export interface SkopeoInspect {
  Name?: string;
  Digest: string;
  RepoTags?: string[];
  Architecture?: string;
  Os?: string;
  Variant?: string;
  Layers: string[];
  LayersData?: Array<{ MIMEType: string; Digest: string; Size: number }>;
}

/** `skopeo inspect REF` parsed (extra flags such as `--override-arch arm64` go first). */
export async function skopeoInspect(ref: string, ...flags: string[]): Promise<SkopeoInspect> {
  return JSON.parse((await skopeoOk(['inspect', ...flags, ref])).stdout) as SkopeoInspect;
}

/** `skopeo inspect --raw REF`: the manifest bytes as the registry serves them. */
export async function skopeoRawManifest(ref: string): Promise<string> {
  return (await skopeoOk(['inspect', '--raw', ref])).stdout;
}
