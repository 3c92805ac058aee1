// dce: drop nodes none of whose outputs is read (or returned), then parameters no node reads.
// Runtime inputs stay: they are the model's calling convention even when unread.

import type { Graph, Value } from '../ir/graph.js';
import type { Pass } from './pass.js';

export function dce(g: Graph): Graph {
  const live = new Set<number>(g.outputs.map((v) => v.id));
  const kept = new Set<number>();
  // Backwards, so a node's readers are decided before it.
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => live.has(o.id))) continue;
    kept.add(i);
    for (const v of n.inputs) live.add(v.id);
  }
  const nodes = g.nodes.filter((_, i) => kept.has(i));
  const params = g.params.filter((p: Value) => live.has(p.id));
  if (nodes.length === g.nodes.length && params.length === g.params.length) return g;
  return { ...g, nodes, params };
}

export const dcePass: Pass = {
  name: 'dce',
  description: 'drop nodes whose outputs are unused and parameters no node reads',
  run: (g) => dce(g),
};
