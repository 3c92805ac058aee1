// share-constants: parameters holding compiler-computed constants with identical data (the RoPE
// inv_freq table the importer emits once per layer) become one parameter, computed and stored once.

import type { Graph, Value } from '../ir/graph.js';
import { formatType } from '../ir/types.js';
import type { Pass } from './pass.js';
import { Rewrite } from './rewrite.js';

function sameData(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  // Bitwise, so -0 and NaN payloads count as different (equal bits compute equal results).
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/** 'layers.0.rope.inv_freq', 'layers.1.rope.inv_freq' -> 'layers.*.rope.inv_freq': says it is shared. */
function sharedName(names: readonly string[]): string {
  const parts = names.map((n) => n.split('.'));
  const first = parts[0];
  if (parts.some((p) => p.length !== first.length)) return first.join('.');
  return first.map((seg, i) => (parts.every((p) => p[i] === seg) ? seg : '*')).join('.');
}

export function shareConstants(g: Graph): Graph {
  // Bucket by type and length first so the bitwise comparison runs only among candidates.
  const buckets = new Map<string, Value[][]>();
  for (const p of g.params) {
    const src = p.param;
    if (src?.kind !== 'constant' || p.type.quant) continue;
    const key = `${formatType(p.type)}#${src.data.length}`;
    const groups = buckets.get(key) ?? [];
    const group = groups.find(([q]) => q.param?.kind === 'constant' && sameData(q.param.data, src.data));
    if (group) group.push(p);
    else groups.push([p]);
    buckets.set(key, groups);
  }
  const rw = new Rewrite(g);
  for (const group of [...buckets.values()].flat()) {
    if (group.length < 2) continue;
    const [first] = group;
    if (!first.param) continue;
    const shared = rw.param(sharedName(group.map((p) => p.name)), first.type, first.param, first);
    for (const p of group) {
      rw.substitute(p, shared);
      rw.dropParam(p);
    }
  }
  return rw.finish();
}

export const shareConstantsPass: Pass = {
  name: 'share-constants',
  description: 'constant parameters with identical data (per-layer RoPE inv_freq tables) become one shared parameter',
  run: (g) => shareConstants(g),
};
