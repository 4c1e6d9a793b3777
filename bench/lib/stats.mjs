// Medians and the markdown report.

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summary(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

const fmtS = (x) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const span = (s) => (s ? `${fmtS(s.median)} (${fmtS(s.min)}-${fmtS(s.max)})` : '-');
const mbs = (bytes, s) => (s && bytes ? (bytes / 1e6 / s.median).toFixed(0) : '-');
const ratio = (r) => (Number.isFinite(r) ? r.toFixed(2) : '-');
const mib = (kib) => (kib ? (kib / 1024).toFixed(0) : '-');

export function humanBytes(n) {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}

function mark(value, target) {
  if (!Number.isFinite(value) || target === undefined) return '';
  return value <= target ? ' ok' : ' **over**';
}

/** The markdown report of a results document. */
export function markdown(doc) {
  const lines = [];
  const m = doc.machine;
  lines.push(`ts-docker bench, ${doc.mode} mode, ${doc.date}; ${m.cpus} x ${m.cpuModel}, ${m.memGiB} GiB RAM, ${m.kernel}; ` +
    `node ${m.node}${m.nodeExtraCaCerts ? ` (NODE_EXTRA_CA_CERTS=${m.nodeExtraCaCerts})` : ''}, ${m.skopeo}, ${m.registry}; ts-docker ${doc.revision}; 1-min load average ${doc.loadAverage.before.toFixed(1)} before, ` +
    `${doc.loadAverage.after.toFixed(1)} after; medians of ${doc.runs} alternating runs (min-max), seconds.`);
  if (doc.tsdArgs.push.length || doc.tsdArgs.pull.length || doc.tsdBin !== 'bin/ts-docker.js') {
    lines.push('', `ts-docker: \`${doc.tsdBin}\`, push args \`${doc.tsdArgs.push.join(' ')}\`, pull args \`${doc.tsdArgs.pull.join(' ')}\``);
  }
  lines.push('');
  if (doc.compare) {
    lines.push(`Compared in the same run with \`${doc.compare.bin}\` (${doc.compare.revision}), push args \`${doc.compare.push.join(' ')}\`, pull args \`${doc.compare.pull.join(' ')}\`:`);
    lines.push('');
    lines.push('| operation | image | ts-docker s | compare s | compare / ts-docker | compare / skopeo | compare peak RSS MiB |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of doc.results) {
      if (!r.compare) continue;
      lines.push(`| ${r.op} | ${r.layers} x ${humanBytes(r.layerSize)} | ${span(r.tsd)} | ${span(r.compare)} | ${ratio(r.ratioCompare)} | ${ratio(r.ratioCompareSkopeo)} | ${mib(r.compareRssKiB?.max)} |`);
    }
    lines.push('');
  }
  if (doc.results.length > 0) {
    lines.push('| operation | image | ts-docker s | MB/s | peak RSS MiB | skopeo s | MB/s | limit s | ts/skopeo (target) | ts/limit (target) |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  }
  for (const r of doc.results) {
    const bytes = r.op === 're-push' ? 0 : r.bytes;
    lines.push(`| ${r.op} | ${r.layers} x ${humanBytes(r.layerSize)} | ${span(r.tsd)} | ${mbs(bytes, r.tsd)} | ${mib(r.tsdRssKiB?.max)} | ` +
      `${span(r.skopeo)} | ${mbs(bytes, r.skopeo)} | ${r.limit ? span(r.limit) : '-'} | ` +
      `${ratio(r.ratioSkopeo)}${r.targetSkopeo ? ` (<= ${r.targetSkopeo})${mark(r.ratioSkopeo, r.targetSkopeo)}` : ''} | ` +
      `${ratio(r.ratioLimit)}${r.targetLimit ? ` (<= ${r.targetLimit})${mark(r.ratioLimit, r.targetLimit)}` : ''} |`);
  }
  if (doc.results.some((r) => r.tsdCpu)) {
    // GNU time reports CPU in hundredths of a second.
    const cpu = (all, sys) => (all ? `${all.median.toFixed(2)} (${sys.median.toFixed(2)})` : '-');
    lines.push('');
    lines.push('CPU seconds of each tool\'s process, medians: user + system over all its threads (system alone in brackets):');
    lines.push('');
    lines.push(`| operation | image | ts-docker | skopeo |${doc.compare ? ' compare |' : ''}`);
    lines.push(`| --- | --- | --- | --- |${doc.compare ? ' --- |' : ''}`);
    for (const r of doc.results) {
      lines.push(`| ${r.op} | ${r.layers} x ${humanBytes(r.layerSize)} | ${cpu(r.tsdCpu, r.tsdSys)} | ${cpu(r.skopeoCpu, r.skopeoSys)} |${doc.compare ? ` ${cpu(r.compareCpu, r.compareSys)} |` : ''}`);
    }
  }
  if (doc.limits.length > 0) {
    lines.push('');
    lines.push('Machine limits, same run (loopback; each one process, one stream unless it says otherwise):');
    lines.push('');
    lines.push('| limit | image | seconds | MB/s |');
    lines.push('| --- | --- | --- | --- |');
    for (const l of doc.limits) lines.push(`| ${l.what} | ${l.label} | ${span(l.time)} | ${mbs(l.bytes, l.time)} |`);
  }
  if (doc.startup) {
    const s = doc.startup;
    lines.push('');
    lines.push(`Startup, store with ${s.names} names (${s.images} images), ${s.runs} alternating runs:`);
    lines.push('');
    lines.push('| command | seconds | peak RSS MiB | x node -e \'\' (target) |');
    lines.push('| --- | --- | --- | --- |');
    for (const c of s.commands) {
      lines.push(`| \`${c.label}\` | ${span(c.time)} | ${mib(c.rssKiB?.max)} | ${ratio(c.ratio)}${c.target ? ` (<= ${c.target})${mark(c.ratio, c.target)}` : ''} |`);
    }
  }
  const peak = Math.max(0, ...doc.results.map((r) => (r.tsdRssKiB?.max ?? 0) / 1024));
  lines.push('');
  if (doc.results.length > 0) lines.push(`Peak RSS target: <= 120 MiB in every scenario${mark(peak, 120)} (largest: ${peak.toFixed(0)} MiB).`);
  lines.push(`Total bench time ${doc.elapsedSeconds.toFixed(0)} s.`);
  return lines.join('\n');
}
