// The compiler API the CLI wires: load a model (folder or Hub id), build the graph a target
// wants, and write artifacts atomically (temporary folder, renamed at the end).

import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { openCheckpoint, type Checkpoint } from './checkpoint/checkpoint.js';
import { resolveModelPath, type HubOptions } from './checkpoint/hub.js';
import { LlamacError } from './errors.js';
import { importLlama } from './frontend/llama.js';
import type { Graph } from './ir/graph.js';
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

/** Emit into a fresh temporary folder beside `out`, then rename; nothing is left on failure. */
export async function emitArtifact(built: Built, out: string): Promise<string> {
  const dest = resolve(out);
  if (existsSync(dest) && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    throw new LlamacError(`--out: ${dest} already exists and is not an empty folder`);
  }
  built.target.checkSupport(built.graph, built.ctx.options);
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = mkdtempSync(join(dirname(dest), '.llamac-tmp-'));
  try {
    await built.target.emit(built.graph, tmp, built.ctx);
    if (existsSync(dest)) rmSync(dest, { recursive: true });
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dest;
}

/** A runner for verify/eval: the target's artifact built in a temp dir and loaded (the reference target runs the interpreter). */
export async function runnerFor(built: Built): Promise<{ runner: ModelRunner; cleanup: () => Promise<void> }> {
  built.target.checkSupport(built.graph, built.ctx.options);
  const dir = mkdtempSync(join(tmpdir(), `llamac-${built.target.name}-`));
  try {
    await built.target.emit(built.graph, dir, built.ctx);
    const runner = await built.target.load(dir, built.graph, built.ctx);
    return {
      runner,
      cleanup: async () => {
        await runner.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
