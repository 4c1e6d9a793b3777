/**
 * htpasswd Basic auth for the built-in registry, answering as docker-registry's htpasswd access
 * controller does: every request without valid credentials (the `/v2/` ping too) gets 401 with
 * `WWW-Authenticate: Basic realm="..."` and an UNAUTHORIZED body listing the access asked for.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';
import type { Htpasswd } from './htpasswd.js';

/** One access a request needs, in docker-registry's shape (it is the error body's `detail`). */
export interface Access {
  Type: 'repository' | 'registry';
  Class: string;
  Name: string;
  Action: string;
}

/**
 * The access a request needs, as docker-registry 2.8 lists it: GET/HEAD pull; POST/PUT/PATCH pull
 * and push (a mount also pulls from its `from`); DELETE delete; the catalog `registry:catalog:*`.
 */
export function accessFor(method: string, name: string | undefined, query: URLSearchParams): Access[] {
  if (name === undefined) return [];
  if (name === '_catalog') return [{ Type: 'registry', Class: '', Name: 'catalog', Action: '*' }];
  const repo = (Action: string): Access => ({ Type: 'repository', Class: '', Name: name, Action });
  switch (method) {
    case 'GET':
    case 'HEAD':
      return [repo('pull')];
    case 'POST':
    case 'PUT':
    case 'PATCH': {
      const from = query.get('from');
      const mount = method === 'POST' && query.get('mount') && from ? [{ Type: 'repository' as const, Class: '', Name: from, Action: 'pull' }] : [];
      return [repo('pull'), repo('push'), ...mount];
    }
    case 'DELETE':
      return [repo('delete')];
    default:
      return [];
  }
}

/** `Authorization: Basic base64(user:password)` -> its parts; anything else (Bearer, garbage) -> undefined. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  // Split at the first colon (user names cannot hold one; passwords can), as Go's BasicAuth does.
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Checks requests against an htpasswd file. */
export class BasicAuth {
  constructor(
    readonly realm: string,
    private readonly htpasswd: Htpasswd,
  ) {}

  /** The user a request authenticates as; throws the 401 challenge when it does not. */
  async authenticate(req: IncomingMessage, access: Access[]): Promise<string> {
    const cred = basicCredentials(req.headers.authorization);
    if (cred && (await this.htpasswd.verify(cred.user, cred.password))) return cred.user;
    // Same body for no credentials and wrong ones (docker-registry 2.8 answers both alike).
    throw new HttpError(401, 'UNAUTHORIZED', undefined, access.length > 0 ? access : null, {
      'WWW-Authenticate': `Basic realm="${this.realm.replace(/["\\]/g, '\\$&')}"`,
    });
  }
}
