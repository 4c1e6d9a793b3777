/**
 * Docker credential helpers (`docker-credential-<name>` on PATH) spoken to in docker's protocol:
 * `get` (server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout), `store` (that JSON on
 * stdin), `erase` (server URL on stdin). Secrets travel only over the helper's stdin/stdout and
 * never appear in an error.
 */
import { spawn } from 'node:child_process';
import type { Credentials } from '../transport/auth.js';
import { CredentialHelperError } from './errors.js';

/** The username helpers use for an identity token (docker's convention). */
const TOKEN_USERNAME = '<token>';

/** What a helper answers to `get`. */
interface HelperCredentials {
  ServerURL?: string;
  Username?: string;
  Secret?: string;
}

/** How a helper run ended. */
interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Helpers say this (on stdout, exit 1) when they have nothing for a server. */
function notFound(r: HelperResult): boolean {
  return /credentials not found/i.test(r.stdout) || /credentials not found/i.test(r.stderr);
}

/** The first line a failing helper printed, to explain the failure (helpers print errors, not secrets). */
function reason(r: HelperResult): string {
  const line = (r.stdout.trim() || r.stderr.trim()).split('\n')[0]?.trim();
  return line ? line.slice(0, 300) : `exit code ${r.code}`;
}

/** One credential helper, e.g. `new CredentialHelper('pass')` runs `docker-credential-pass`. */
export class CredentialHelper {
  /** The program run: `docker-credential-<name>`. */
  readonly program: string;

  /** `where` names the setting that chose this helper, for the message when it is missing. */
  constructor(readonly name: string, private readonly where: string, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.program = `docker-credential-${name}`;
  }

  /** Credentials stored for `serverUrl`, or undefined when the helper has none. */
  async get(serverUrl: string): Promise<Credentials | undefined> {
    const r = await this.run('get', serverUrl);
    if (r.code !== 0) {
      if (notFound(r)) return undefined;
      throw new CredentialHelperError(this.name, `error getting credentials - ${this.program} get: ${reason(r)}`);
    }
    let doc: HelperCredentials;
    try {
      doc = JSON.parse(r.stdout) as HelperCredentials;
    } catch {
      throw new CredentialHelperError(this.name, `error getting credentials - ${this.program} get printed something that is not JSON`);
    }
    if (!doc.Username && !doc.Secret) return undefined;
    if (doc.Username === TOKEN_USERNAME) return { identityToken: doc.Secret ?? '' };
    return { username: doc.Username ?? '', password: doc.Secret ?? '' };
  }

  /** Stores credentials for `serverUrl`. */
  async store(serverUrl: string, cred: Credentials): Promise<void> {
    const doc: HelperCredentials = cred.identityToken
      ? { ServerURL: serverUrl, Username: TOKEN_USERNAME, Secret: cred.identityToken }
      : { ServerURL: serverUrl, Username: cred.username ?? '', Secret: cred.password ?? '' };
    const r = await this.run('store', JSON.stringify(doc));
    if (r.code !== 0) throw new CredentialHelperError(this.name, `error storing credentials - ${this.program} store: ${reason(r)}`);
  }

  /** Erases credentials for `serverUrl`; false when the helper had none. */
  async erase(serverUrl: string): Promise<boolean> {
    const r = await this.run('erase', serverUrl);
    if (r.code === 0) return true;
    if (notFound(r)) return false;
    throw new CredentialHelperError(this.name, `error erasing credentials - ${this.program} erase: ${reason(r)}`);
  }

  private run(action: 'get' | 'store' | 'erase', input: string): Promise<HelperResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.program, [action], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          reject(new CredentialHelperError(this.name,
            `credential helper ${this.program} not found on PATH (configured by ${this.where}): install it or remove that setting`));
        } else {
          reject(new CredentialHelperError(this.name, `cannot run credential helper ${this.program}: ${e.message}`));
        }
      });
      // A helper that exits without reading stdin must not crash us with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
      child.on('close', (code) => {
        resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
    });
  }
}
