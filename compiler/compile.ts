// The compiler API the CLI wires: load a model (folder or Hub id), build the graph a target
// wants, and write artifacts atomically (temporary folder, renamed at the end).

import { tmpdir } from 'node:os';
import { openCheckpoint, type Checkpoint } from './checkpoint/checkpoint.js';
import { resolveModelPath, type HubOptions } from './checkpoint/hub.js';
import { importLlama } from './frontend/llama.js';
import type { Graph } from './ir/graph.js';
import { makeTempDir, prepareOutput, RUN_TEMP_PREFIX, type OutputSlot } from './output.js';
import { runPipeline, type PipelineHooks } from './pipeline.js';
import type { QuantConfig } from './passes/quant-config.js';
import { lookupTarget } from './targets/index.js';
import type { ModelRunner } from './targets/runner.js';
import type { CompileContext, Target } from './targets/target.js';

export interface LoadedModel {
  readonly checkpoint: Checkpoint;
  readonly graph: Graph;
}

export async function loadModel(spec: string, hub: HubOptions = {}): Promise<LoadedModel> {
  const dir = await resolveModelPath(spec, hub);
  const checkpoint = openCheckpoint(dir);
  return { checkpoint, graph: importLlama(checkpoint) };
}

export interface BuildOptions {
  readonly target: string;
  readonly quant: QuantConfig;
  /** Run the target's pipeline (fusions etc.); false keeps the plain graph (quantization still runs). */
  readonly fuse: boolean;
  readonly targetOptions: Readonly<Record<string, string>>;
  readonly recordedOptions: Readonly<Record<string, string | number | boolean>>;
  readonly hooks?: PipelineHooks;
  readonly log?: (msg: string) => void;
}

/** The pass list a build runs: the target's pipeline, or only quantization when not fusing. */
export function pipelineFor(target: Target, opts: Pick<BuildOptions, 'fuse' | 'quant'>): string[] {
  const base = opts.fuse ? [...target.pipeline] : [];
  if (opts.quant.linear || opts.quant.embeddings) base.push('quantize');
  return base;
}

export interface Built {
  readonly target: Target;
  readonly graph: Graph;
  readonly ctx: CompileContext;
}

export async function buildForTarget(model: LoadedModel, opts: BuildOptions): Promise<Built> {
  const target = lookupTarget(opts.target);
  target.checkOptions(opts.targetOptions);
  const log = opts.log ?? (() => {});
  const ctx: CompileContext = {
    reader: model.checkpoint,
    checkpointDir: model.checkpoint.dir,
    quant: opts.quant,
    options: opts.targetOptions,
    recordedOptions: opts.recordedOptions,
    log,
  };
  const graph = await runPipeline(model.graph, pipelineFor(target, opts), { reader: model.checkpoint, quant: opts.quant, log }, opts.hooks);
  return { target, graph, ctx };
}

/**
 * Emit into the temporary folder beside `out`, then rename; nothing is left on failure. Pass the
 * slot from prepareOutput (claimed before any weight was read) or a path to claim one now.
 */
export async function emitArtifact(built: Built, out: string | OutputSlot): Promise<string> {
  const slot = typeof out === 'string' ? prepareOutput(out) : out;
  try {
    built.target.checkSupport(built.graph, built.ctx.options);
    await built.target.emit(built.graph, slot.tmp, built.ctx);
  } catch (e) {
    slot.abort();
    throw e;
  }
  slot.commit();
  return slot.dest;
}

/** A runner for verify/eval: the target's artifact built in a temp dir and loaded (the reference target runs the interpreter). */
export async function runnerFor(built: Built): Promise<{ runner: ModelRunner; cleanup: () => Promise<void> }> {
  built.target.checkSupport(built.graph, built.ctx.options);
  const tmp = makeTempDir(tmpdir(), RUN_TEMP_PREFIX);
  const dir = tmp.path;
  try {
    await built.target.emit(built.graph, dir, built.ctx);
    const runner = await built.target.load(dir, built.graph, built.ctx);
    return {
      runner,
      cleanup: async () => {
        await runner.dispose();
        tmp.remove();
      },
    };
  } catch (e) {
    tmp.remove();
    throw e;
  }
}
