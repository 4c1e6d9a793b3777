/** docker's human-readable sizes and durations (go-units HumanSizeWithPrecision, HumanDuration). */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's `%.{p}g`. */
function formatG(x: number, precision: number): string {
  const s = x.toPrecision(precision);
  const [mant, exp] = s.split('e') as [string, string?];
  const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  if (exp === undefined) return m;
  const e = Number(exp);
  return `${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** `1.24MB`, `5.58kB`, `512B`: decimal units, 3 significant digits, as `docker images` shows SIZE. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, 3)}${UNITS[i]}`;
}

/** go-units HumanDuration: `Less than a second`, `About a minute`, `3 hours`, `2 days`... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** docker's CREATED column: `2 days ago`, or `N/A` for an image without a creation time. */
export function createdSince(created: Date | undefined, now = Date.now()): string {
  return created ? `${humanDuration(Math.max(0, now - created.getTime()))} ago` : 'N/A';
}

/** Go's `time.Time.String()` in UTC, as docker's CreatedAt: `2024-01-02 15:04:05 +0000 UTC`. */
export function goTimeString(d: Date | undefined): string {
  if (!d) return '0001-01-01 00:00:00 +0000 UTC';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
