/**
 * A small hostile registry for the hardening tests: a node:http server on loopback that serves
 * a valid image for every repository, except where a test gives a repository its own behaviour
 * (a lying Content-Type, a config that is not JSON, a 1 byte/s drip, control characters in an
 * error, a plain-HTTP token realm...). It stands in for a bad or malicious registry, never for
 * the registry under test: the real ones are docker-registry and the built-in registry.
 *
 * Every request is recorded (method, url, headers, body bytes received), so a test can check
 * what ts-docker sent, e.g. that no `Authorization` went somewhere it must not.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';

/** One request as the hostile registry received it. */
export interface HostileRequest {
  method: string;
  url: string;
  /** Path without the query. */
  path: string;
  headers: IncomingMessage['headers'];
  /** Body bytes received (counted, not kept). */
  bodyBytes: number;
}

/** What a handler learns about a request under `/v2/<repo>/...`. */
export interface RouteInfo {
  repo: string;
  /** `manifests`, `blobs`, `uploads` or `tags`. */
  kind: 'manifests' | 'blobs' | 'uploads' | 'tags';
  /** Tag or digest for manifests and blobs; the session id (or '') for uploads. */
  ref: string;
  /** The image this registry serves for the repository (the default one unless {@link Hostile.setImage} was called). */
  image: TestImage;
}

/**
 * A repository's own behaviour: return true when it answered, false to let the default (a
 * correct registry serving `info.image`) answer.
 */
export type Handler = (req: IncomingMessage, res: ServerResponse, info: RouteInfo) => boolean | Promise<boolean>;

/** A blob of a test image. */
export interface TestBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

/** An image the hostile registry can serve: manifest bytes and every blob by digest. */
export interface TestImage {
  manifest: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  config: TestBlob;
  layers: TestBlob[];
  /** The uncompressed layer tars (their digests are the config's diff_ids unless overridden). */
  tars: Buffer[];
}

/** sha256:<hex> of `b`. */
export function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** A minimal ustar archive holding one regular file `name` with `data` (no tar library needed). */
export function tarOf(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

/** Options of {@link makeTestImage}. */
export interface TestImageOptions {
  /** Layer contents (default: one 4 KiB file). Each becomes a gzipped one-file tar. */
  files?: Buffer[];
  /** Replace the config bytes (e.g. not JSON); the manifest points at them by their digest. */
  configBytes?: Buffer;
  /** Changes to the config object before it is serialized (ignored with configBytes). */
  editConfig?: (c: Record<string, unknown>) => void;
  /** Changes to the manifest object before it is serialized. */
  editManifest?: (m: Record<string, unknown>) => void;
  /** `oci` (default) or `docker` media types. */
  flavour?: 'oci' | 'docker';
}

/** Builds a small valid image (or a deliberately broken one, with the edit options). */
export function makeTestImage(opts: TestImageOptions = {}): TestImage {
  const oci = (opts.flavour ?? 'oci') === 'oci';
  const files = opts.files ?? [Buffer.alloc(4096, 7)];
  const tars = files.map((f, i) => tarOf(`file${i}`, f));
  const layers: TestBlob[] = tars.map((t) => {
    const bytes = gzipSync(t);
    return {
      mediaType: oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      digest: sha256(bytes), size: bytes.length, bytes,
    };
  });
  const cfgObj: Record<string, unknown> = {
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/bin:/bin'] },
    rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
    history: tars.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'hostile-registry' })),
  };
  opts.editConfig?.(cfgObj);
  const cfgBytes = opts.configBytes ?? Buffer.from(JSON.stringify(cfgObj));
  const config: TestBlob = {
    mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json',
    digest: sha256(cfgBytes), size: cfgBytes.length, bytes: cfgBytes,
  };
  const manifestMediaType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const mObj: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  opts.editManifest?.(mObj);
  const manifest = Buffer.from(JSON.stringify(mObj));
  return { manifest, manifestDigest: sha256(manifest), manifestMediaType, config, layers, tars };
}

/** A running hostile registry. */
export interface Hostile {
  /** `127.0.0.1:PORT`: use it in image names (`${host}/repo:tag`). Loopback is plain HTTP by default for ts-docker. */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://...`. */
  url: string;
  /** Every request so far. */
  requests: HostileRequest[];
  /** Gives `repo` its own behaviour (see {@link Handler}). */
  on(repo: string, handler: Handler): void;
  /** Serves `image` for `repo` (any tag) instead of the default image. */
  setImage(repo: string, image: TestImage): void;
  /** The `/v2/` answer: default 200 `{}`; a handler may send a challenge instead. */
  onPing(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Handles any other path (a token realm, a redirect target) served by this same server. */
  onOther(handler: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>): void;
  close(): Promise<void>;
}

const servers = new Set<Hostile>();
afterAll(async () => {
  await Promise.all([...servers].map((s) => s.close()));
});

/** Starts a hostile registry on a random loopback port (`tls`: serve HTTPS with this key and certificate). */
export async function startHostile(opts: { tls?: { key: string | Buffer; cert: string | Buffer }; image?: TestImage } = {}): Promise<Hostile> {
  const defaultImage = opts.image ?? makeTestImage();
  const handlers = new Map<string, Handler>();
  const images = new Map<string, TestImage>();
  const requests: HostileRequest[] = [];
  let ping: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let other: ((req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>) | undefined;
  const sockets = new Set<Socket>();

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: HostileRequest = { method: req.method ?? '', url: req.url ?? '', path: url.pathname, headers: req.headers, bodyBytes: 0 };
    requests.push(rec);
    req.on('data', (c: Buffer) => (rec.bodyBytes += c.length));
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (ping) return ping(req, res);
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.*)$/.exec(url.pathname);
    if (!m) {
      if (other && (await other(req, res))) return;
      res.writeHead(404).end();
      return;
    }
    let [, repo, kind, ref] = m as unknown as [string, string, RouteInfo['kind'], string];
    if (kind === 'blobs' && ref.startsWith('uploads')) {
      kind = 'uploads';
      ref = ref.replace(/^uploads\/?/, '');
    }
    const image = images.get(repo) ?? defaultImage;
    const h = handlers.get(repo);
    if (h && (await h(req, res, { repo, kind, ref, image }))) return;
    defaultAnswer(req, res, { repo, kind, ref, image });
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    });
  };
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const hostile: Hostile = {
    host: `127.0.0.1:${port}`,
    port,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    on: (repo, h) => handlers.set(repo, h),
    setImage: (repo, img) => images.set(repo, img),
    onPing: (h) => (ping = h),
    onOther: (h) => (other = h),
    close: async () => {
      servers.delete(hostile);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.add(hostile);
  return hostile;
}

/** What a correct registry answers for `info`: the image's manifest (any tag or its digest) and blobs; uploads accepted and dropped. */
export function defaultAnswer(req: IncomingMessage, res: ServerResponse, info: RouteInfo): void {
  const { image, kind, ref } = info;
  const head = req.method === 'HEAD';
  const send = (status: number, headers: Record<string, string | number>, body?: Buffer): void => {
    res.writeHead(status, headers);
    res.end(head ? undefined : body);
  };
  if (kind === 'manifests') {
    if (ref.startsWith('sha256:') && ref !== image.manifestDigest) return notFound(res, 'MANIFEST_UNKNOWN', 'manifest unknown');
    return send(200, { 'content-type': image.manifestMediaType, 'docker-content-digest': image.manifestDigest, 'content-length': image.manifest.length }, image.manifest);
  }
  if (kind === 'blobs') {
    const blob = [image.config, ...image.layers].find((b) => b.digest === ref);
    if (!blob) return notFound(res, 'BLOB_UNKNOWN', 'blob unknown to registry');
    const range = /^bytes=(\d+)-$/.exec(String(req.headers['range'] ?? ''));
    if (range) {
      const from = Number(range[1]);
      return send(206, { 'content-type': 'application/octet-stream', 'content-length': blob.size - from, 'content-range': `bytes ${from}-${blob.size - 1}/${blob.size}` }, blob.bytes.subarray(from));
    }
    return send(200, { 'content-type': 'application/octet-stream', 'content-length': blob.size, 'docker-content-digest': blob.digest }, blob.bytes);
  }
  if (kind === 'tags') return send(200, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ name: info.repo, tags: ['latest'] })));
  // Uploads: accept and forget (enough for tests that push to a hostile registry).
  req.resume();
  req.on('end', () => {
    if (req.method === 'POST') send(202, { location: `/v2/${info.repo}/blobs/uploads/s1`, range: '0-0', 'content-length': 0 });
    else if (req.method === 'PATCH') send(202, { location: `/v2/${info.repo}/blobs/uploads/s1`, range: `0-${Math.max(0, Number(req.headers['content-length'] ?? 1) - 1)}`, 'content-length': 0 });
    else send(201, { location: `/v2/${info.repo}/blobs/${new URL(req.url ?? '/', 'http://x').searchParams.get('digest') ?? ''}`, 'content-length': 0 });
  });
}

/** A spec error answer (404 with a code). */
export function notFound(res: ServerResponse, code: string, message: string): void {
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code, message }] }));
}

/** Control characters a hostile server likes to send: NUL, ESC sequences (colour, cursor), an OSC title and BEL. */
export const NASTY = '\u0000\u001b[31mRED\u001b[0m\u001b]0;pwned\u0007\u001b[2J\r';

/** True when `text` contains any C0 control character other than newline and tab, or DEL / C1. */
export function hasRawControl(text: string): boolean {
  return /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text);
}
