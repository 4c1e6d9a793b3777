// A floor for any Node.js puller: GETs the given blobs from a registry over `conc` keep-alive
// connections with node:http and hashes each with SHA-256, writing nothing. The bench times it as a
// limit beside curl's GET, to show what Node itself costs for the same bytes.
//
//   node bench/lib/node-get.cjs HOST:PORT REPO CONCURRENCY DIGEST...
'use strict';
const http = require('node:http');
const { createHash } = require('node:crypto');

const [hostPort, repo, conc, ...digests] = process.argv.slice(2);
const [host, port] = hostPort.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(conc) });
let next = 0;

function get(digest) {
  return new Promise((resolve, reject) => {
    http.get({ host, port, path: `/v2/${repo}/blobs/${digest}`, agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${digest}: HTTP ${res.statusCode}`));
      const hash = createHash('sha256');
      res.on('data', (chunk) => hash.update(chunk));
      res.on('end', () => (`sha256:${hash.digest('hex')}` === digest ? resolve() : reject(new Error(`${digest}: digest mismatch`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function lane() {
  while (next < digests.length) await get(digests[next++]);
}

Promise.all(Array.from({ length: Number(conc) }, lane)).then(() => agent.destroy(), (err) => {
  console.error(err.message);
  process.exit(1);
});
