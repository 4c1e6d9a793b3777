/**
 * The htpasswd file of the built-in registry's Basic auth: bcrypt entries only (what
 * `htpasswd -B` writes), as docker-registry accepts. Checked at startup, re-read when it
 * changes on disk, and successful checks cached so that a push (hundreds of requests) costs one
 * bcrypt per user, not one per request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { InvalidArgumentError } from '../errors.js';

/** `$2y$` (apache2-utils), `$2a$`, `$2b$`: cost, then 22 characters of salt and 31 of hash. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** What kind of hash a non-bcrypt entry holds, for the startup error (never the hash itself). */
function hashKind(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'an MD5 ($apr1$, htpasswd -m)';
  if (hash.startsWith('{SHA}')) return 'a SHA-1 ({SHA}, htpasswd -s)';
  if (hash.startsWith('$2')) return 'a malformed bcrypt';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'a SHA-crypt';
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) return 'a crypt (htpasswd -d)';
  return 'a plain-text or unknown';
}

/**
 * Parses htpasswd text as docker-registry does (lines trimmed, blank lines and lines starting
 * with `#` skipped, `user:hash` split at the first colon, a later entry for the same user wins),
 * but refuses anything that is not bcrypt, naming the line.
 */
export function parseHtpasswd(text: string, file: string): Map<string, string> {
  const entries = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new InvalidArgumentError(`htpasswd file ${file} line ${i + 1}: expected USER:HASH`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) {
      throw new InvalidArgumentError(
        `htpasswd file ${file} line ${i + 1}: user ${JSON.stringify(user)} has ${hashKind(hash)} hash; only bcrypt is supported (write it with htpasswd -B)`,
      );
    }
    entries.set(user, hash);
  });
  return entries;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** `1 user`, `2 users`. */
const users = (n: number): string => `${n} user${n === 1 ? '' : 's'}`;

/** Identifies one version of the file on disk (a rename over it changes the inode). */
const versionOf = (s: { mtimeMs: number; size: number; ino: number }): string => `${s.mtimeMs}:${s.size}:${s.ino}`;

/** An htpasswd file, loaded with {@link Htpasswd.load}. */
export class Htpasswd {
  /** user -> sha256 of the password that last passed bcrypt against `hash` (the cache). */
  private readonly verified = new Map<string, { hash: string; password: Buffer }>();
  /** Checks under way, so that parallel requests with the same credentials share one bcrypt. */
  private readonly pending = new Map<string, Promise<boolean>>();
  private reloading: Promise<void> | undefined;
  /** The reason the file on disk is unusable now (every request is refused until it is fixed). */
  private broken: string | undefined;

  private constructor(
    readonly file: string,
    private entries: Map<string, string>,
    private version: string,
    /** Where reload problems are reported (the server log). */
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Reads and checks the file; a missing file or a non-bcrypt entry is an error here, at startup
   * (docker-registry invents a user `docker` when the file is missing; we refuse instead).
   */
  static async load(file: string, log: (line: string) => void = () => undefined): Promise<Htpasswd> {
    let text: string;
    let version: string;
    try {
      version = versionOf(await stat(file));
      text = await readFile(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file (create it with htpasswd -cB FILE USER)' : err.code === 'EACCES' ? 'permission denied' : err.message;
      throw new InvalidArgumentError(`htpasswd file ${file}: ${why}`);
    }
    const entries = parseHtpasswd(text, file);
    if (entries.size === 0) log(`warning: htpasswd file ${file} has no users: every request will be refused`);
    return new Htpasswd(file, entries, version, log);
  }

  /** True when `user` with `password` is in the file (re-read first if it changed on disk). */
  async verify(user: string, password: string): Promise<boolean> {
    await this.refresh();
    if (this.broken !== undefined) return false;
    const hash = this.entries.get(user);
    const presented = sha256(password);
    if (hash === undefined) {
      // Spend a bcrypt anyway, so that a wrong user name costs as long as a wrong password.
      const any = this.entries.values().next().value;
      if (any !== undefined) await bcrypt.compare(password, any);
      return false;
    }
    const known = this.verified.get(user);
    if (known && known.hash === hash && timingSafeEqual(known.password, presented)) return true;
    const key = `${user}\0${hash}\0${presented.toString('hex')}`;
    let check = this.pending.get(key);
    if (!check) {
      check = bcrypt.compare(password, hash).finally(() => this.pending.delete(key));
      this.pending.set(key, check);
    }
    const ok = await check;
    if (ok && this.entries.get(user) === hash) this.verified.set(user, { hash, password: presented });
    return ok;
  }

  /** Re-reads the file when its mtime, size or inode changed; a file that turned bad refuses everyone. */
  private refresh(): Promise<void> {
    this.reloading ??= (async () => {
      let version: string;
      try {
        version = versionOf(await stat(this.file));
      } catch (e) {
        this.setBroken(`htpasswd file ${this.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'gone');
        return;
      }
      if (version === this.version) return;
      try {
        const entries = parseHtpasswd(await readFile(this.file, 'utf8'), this.file);
        this.entries = entries;
        this.version = version;
        this.verified.clear();
        if (this.broken !== undefined) this.log(`htpasswd file ${this.file} is valid again (${users(entries.size)})`);
        else this.log(`htpasswd file ${this.file} changed: re-read (${users(entries.size)})`);
        this.broken = undefined;
      } catch (e) {
        this.setBroken((e as Error).message, version);
      }
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  /** Refuses every request from now on, logging why once per version of the file. */
  private setBroken(why: string, version: string): void {
    if (this.broken === undefined || this.version !== version) this.log(`error: ${why}: every request is refused until it is fixed`);
    this.broken = why;
    this.version = version;
    this.entries = new Map();
    this.verified.clear();
  }
}
