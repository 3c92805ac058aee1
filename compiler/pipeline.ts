// The pass pipeline driver: passes by name (data), the verifier after every pass, IR dumps and
// per-pass timing on request.

import { LlamacError } from './errors.js';
import type { Graph } from './ir/graph.js';
import { printGraph } from './ir/printer.js';
import { verifyGraph } from './ir/verify.js';
import type { Pass, PassContext } from './passes/pass.js';
import { PASS_REGISTRY } from './passes/registry.js';

export interface PipelineHooks {
  /** Pass name, or 'all', after which to print the IR. */
  readonly dumpIrAfter?: string;
  readonly dump?: (passName: string, irText: string) => void;
  /** Per-pass timing lines. */
  readonly timing?: (passName: string, ms: number) => void;
}

export function lookupPass(name: string): Pass {
  const pass = PASS_REGISTRY.get(name);
  if (!pass) throw new LlamacError(`unknown pass '${name}' (known: ${[...PASS_REGISTRY.keys()].join(', ')})`);
  return pass;
}

export async function runPipeline(graph: Graph, passNames: readonly string[], ctx: PassContext, hooks: PipelineHooks = {}): Promise<Graph> {
  const passes = passNames.map(lookupPass);
  if (hooks.dumpIrAfter && hooks.dumpIrAfter !== 'all' && hooks.dumpIrAfter !== 'import' && !passNames.includes(hooks.dumpIrAfter)) {
    throw new LlamacError(`--dump-ir-after: pass '${hooks.dumpIrAfter}' is not in this pipeline (${passNames.join(', ') || 'empty'})`);
  }
  if (hooks.dumpIrAfter === 'all' || hooks.dumpIrAfter === 'import') hooks.dump?.('import', printGraph(graph));
  let g = graph;
  for (const pass of passes) {
    const t0 = performance.now();
    g = await pass.run(g, ctx);
    try {
      verifyGraph(g);
    } catch (e) {
      throw new Error(`pass '${pass.name}' produced an invalid graph: ${(e as Error).message}`);
    }
    hooks.timing?.(pass.name, performance.now() - t0);
    if (hooks.dumpIrAfter === 'all' || hooks.dumpIrAfter === pass.name) hooks.dump?.(pass.name, printGraph(g));
  }
  return g;
}
