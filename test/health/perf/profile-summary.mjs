// Summarise a V8 CPU profile (measure.ts --profile FILE): self time by function and by
// source area (node internals, our src/health, prom-client, pino, ...), as % of the samples.
// Usage: node profile-summary.mjs FILE [TOP]
import { readFileSync } from 'node:fs';

const [file, topArg = '40'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
const total = profile.samples.length;
const fn = new Map();
const area = new Map();
const areaOf = (url) => {
  if (!url) return '(native/vm)';
  if (url.includes('node_modules/')) return url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1');
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?([^/]+).*/, 'node:$2');
  const m = /\/(src|test)\/([^/]+)/.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
};
for (const [id, count] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*\/(node_modules|src|test)\//, '$1/')}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + count);
  const a = areaOf(cf.url);
  area.set(a, (area.get(a) ?? 0) + count);
}
const pct = (c) => `${((c / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`${total} samples`);
console.log('-- by area');
for (const [k, c] of [...area].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(pct(c), k);
console.log('-- by function (self)');
for (const [k, c] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(pct(c), k);
