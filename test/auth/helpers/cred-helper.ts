/**
 * A docker credential helper for the tests, `docker-credential-tstest`, speaking docker's
 * protocol (get / store / erase / list over stdin and stdout) and keeping its secrets in a JSON
 * file. Every call is logged (action and server, never the secret) so tests can see it was used.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The helper installed in a bin dir. */
export interface CredHelper {
  /** The dir to put first on PATH. */
  binDir: string;
  /** Its JSON store: ServerURL -> { Username, Secret }. */
  store: () => Promise<Record<string, { Username: string; Secret: string }>>;
  /** Its calls, e.g. `get 127.0.0.1:5000`. */
  calls: () => Promise<string[]>;
}

/** Writes `<binDir>/docker-credential-<name>`. */
export async function installCredHelper(binDir: string, name = 'tstest'): Promise<CredHelper> {
  const db = join(binDir, `${name}-store.json`);
  const log = join(binDir, `${name}-calls.log`);
  const script = `#!${process.execPath}
const fs = require('fs');
const db = ${JSON.stringify(db)};
const log = ${JSON.stringify(log)};
const action = process.argv[2];
const input = fs.readFileSync(0, 'utf8');
const all = fs.existsSync(db) ? JSON.parse(fs.readFileSync(db, 'utf8')) : {};
const save = () => fs.writeFileSync(db, JSON.stringify(all));
const notFound = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); };
if (action === 'store') {
  const c = JSON.parse(input);
  fs.appendFileSync(log, 'store ' + c.ServerURL + '\\n');
  all[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  save();
} else if (action === 'get') {
  const key = input.trim();
  fs.appendFileSync(log, 'get ' + key + '\\n');
  if (!all[key]) notFound();
  process.stdout.write(JSON.stringify({ ServerURL: key, Username: all[key].Username, Secret: all[key].Secret }));
} else if (action === 'erase') {
  const key = input.trim();
  fs.appendFileSync(log, 'erase ' + key + '\\n');
  if (!all[key]) notFound();
  delete all[key];
  save();
} else if (action === 'list') {
  const out = {};
  for (const [k, v] of Object.entries(all)) out[k] = v.Username;
  process.stdout.write(JSON.stringify(out));
} else {
  process.stdout.write('unknown action\\n');
  process.exit(1);
}
`;
  const file = join(binDir, `docker-credential-${name}`);
  await writeFile(file, script);
  await chmod(file, 0o755);
  return {
    binDir,
    store: async () => {
      try {
        return JSON.parse(await readFile(db, 'utf8')) as Record<string, { Username: string; Secret: string }>;
      } catch {
        return {};
      }
    },
    calls: async () => {
      try {
        return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
  };
}
