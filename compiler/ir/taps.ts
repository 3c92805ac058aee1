// Taps: IR values exposed as extra graph outputs (after logits and the present k/v), so any target
// that lowers graph outputs returns them too. Used for per-layer hidden-state comparisons
// (llamac build's report); a calibration pass can expose other values the same way.

import type { Graph, Value } from './graph.js';

/** The graph with `values` appended to its outputs, in the given order (each at most once). */
export function exposeValues(graph: Graph, values: readonly Value[]): Graph {
  const outputs = [...graph.outputs];
  for (const v of values) {
    if (v.param) throw new Error(`internal: cannot tap parameter ${v.name}`);
    if (!outputs.some((o) => o.id === v.id)) outputs.push(v);
  }
  return { ...graph, outputs };
}

/** Values of a graph by name (first producer wins); names the importer gives survive every pass. */
export function valuesByName(graph: Graph, names: readonly string[]): (Value | null)[] {
  const byName = new Map<string, Value>();
  for (const n of graph.nodes) for (const o of n.outputs) if (!byName.has(o.name)) byName.set(o.name, o);
  return names.map((name) => byName.get(name) ?? null);
}

/** The residual stream after each decoder layer ('layers.{i}.output', as the importer names it). */
export function layerOutputNames(graph: Graph): string[] {
  return Array.from({ length: graph.info.numLayers }, (_, i) => `layers.${i}.output`);
}

/** How many outputs a graph has before its taps: logits, then present key/value per layer. */
export function coreOutputCount(graph: Graph): number {
  return 1 + 2 * graph.info.numLayers;
}
