/** Ports and readiness for servers the auth tests start. */
import { connect, createServer } from 'node:net';

/** A port free on `host` right now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port; `failed` is checked between tries. */
export async function waitForPort(host: string, port: number, failed: () => string | undefined, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${host}:${port}`);
}
