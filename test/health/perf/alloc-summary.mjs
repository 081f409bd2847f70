#!/usr/bin/env node
/**
 * Summarise a V8 sampling heap profile (measure.ts --alloc-profile FILE): bytes allocated per
 * function (self) and per call path's leaf-most frame in our code or Node's, largest first.
 * Usage: node alloc-summary.mjs FILE [top=30]
 */
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: alloc-summary.mjs FILE [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const { head } = JSON.parse(readFileSync(file, 'utf8'));
const self = new Map();
let total = 0;
(function walk(node) {
  const f = node.callFrame;
  const bytes = node.selfSize;
  total += bytes;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + bytes);
  for (const child of node.children) walk(child);
})(head);
console.log(`total sampled: ${(total / 1024 / 1024).toFixed(1)} MiB`);
for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${(bytes / 1024).toFixed(0).padStart(8)} KiB  ${key}`);
}
