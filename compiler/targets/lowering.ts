// The lowering contract: every target maps EVERY op kind of compiler/ir/ops.ts to its lowering or
// to an explicit rejection. The mapped types below make a new op a compile error in each target
// until it is handled; a rejected op is reported (target, op, why) before anything is written.

import { LlamacError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { OpKind } from '../ir/ops.js';

/** An op a target states it does not lower, and why (shown to the user). */
export interface Rejection {
  readonly rejected: string;
}

export function reject(why: string): Rejection {
  return { rejected: why };
}

export function isRejection(x: unknown): x is Rejection {
  return typeof x === 'object' && x !== null && typeof (x as { rejected?: unknown }).rejected === 'string';
}

/**
 * A target's table: for each op kind, its lowering (the target's own function type for that op,
 * given by `Fns`) or a rejection. Leaving an op out does not type-check.
 */
export type LoweringTable<Fns extends { readonly [K in OpKind]: unknown }> = { readonly [K in OpKind]: Fns[K] | Rejection };

/** Any target's table with the lowering types erased: what the driver checks a graph against. */
export type OpSupport = { readonly [K in OpKind]: unknown };

/** The ops of `graph` the table rejects, each once, in graph order. */
export function rejectedOps(table: OpSupport, graph: Graph): { readonly op: OpKind; readonly why: string }[] {
  const out: { op: OpKind; why: string }[] = [];
  for (const n of graph.nodes) {
    const entry = table[n.op];
    if (isRejection(entry) && !out.some((r) => r.op === n.op)) out.push({ op: n.op, why: entry.rejected });
  }
  return out;
}

/** Throws `target X does not support op Y (why)` for the first rejected op of the graph. */
export function assertSupported(target: string, table: OpSupport, graph: Graph): void {
  const [first, ...rest] = rejectedOps(table, graph);
  if (!first) return;
  const more = rest.length ? `; also ${rest.map((r) => r.op).join(', ')}` : '';
  throw new LlamacError(`target ${target} does not support op ${first.op} (${first.why})${more}`);
}

/** The table's entry for an op, for a driver that already checked support (a rejection here is a bug). */
export function loweringOf<T>(target: string, entry: T | Rejection, op: OpKind): T {
  if (isRejection(entry)) throw new Error(`internal: target ${target} reached rejected op ${op} (${entry.rejected}) after the support check`);
  return entry;
}
