// Runs an emitted WebGPU artifact in Node (Dawn; lavapipe without a GPU) through the artifact's own
// runtime module, so verify/eval exercise exactly what a browser loads.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RtTensor } from '../../interpreter/interpreter.js';
import type { Graph } from '../../ir/graph.js';
import { LlamacError } from '../../errors.js';
import { openGpu, type Gpu } from '../../../kernels-wgsl/gpu.js';
import type { ModelRunner } from '../runner.js';
import { RUNTIME_FILE } from './emit.js';
import type { LoadOptions, Model } from './runtime/llamac-webgpu.js';

interface RuntimeModule {
  load(dir: string, opts?: LoadOptions): Promise<Model>;
}

/** Opens Dawn and loads the artifact with its runtime. The caller disposes both. */
export async function loadArtifact(dir: string, opts: Omit<LoadOptions, 'device'> = {}): Promise<{ model: Model; gpu: Gpu }> {
  const gpu = await openGpu();
  if (!gpu) throw new LlamacError('webgpu: no WebGPU adapter in Node (run .ci/install-wgsl.sh for Mesa lavapipe)');
  const rt = (await import(pathToFileURL(join(dir, RUNTIME_FILE)).href)) as RuntimeModule;
  const adapterInfo = { vendor: '', architecture: '', device: '', description: gpu.adapterName } as GPUAdapterInfo;
  try {
    const model = await rt.load(dir, { ...opts, device: gpu.device, adapterInfo, wgslLanguageFeatures: gpu.instance.wgslLanguageFeatures });
    return { model, gpu };
  } catch (e) {
    gpu.destroy();
    throw new LlamacError((e as Error).message.replace(/^llamac: /, 'webgpu: '));
  }
}

/**
 * The ModelRunner contract over the stateful runtime: the cache lives on the GPU, so `past` only
 * says how long it must be (0 = a new sequence); present tensors carry shapes, not numbers.
 */
export async function webgpuRunner(dir: string, graph: Graph): Promise<ModelRunner> {
  const { model, gpu } = await loadArtifact(dir);
  const { numLayers, numKvHeads, headDim, vocabSize } = graph.info;
  const shaped = (len: number): RtTensor[] => Array.from({ length: 2 * numLayers }, () => ({ shape: [numKvHeads, len, headDim], data: new Float32Array(0) }));
  return {
    target: 'webgpu',
    vocabSize,
    forward: async (ids, positions, past) => {
      const P = past.length ? past[0].shape[1] : 0;
      if (P === 0) model.reset();
      else if (P !== model.length) throw new Error(`internal: webgpu runner: the GPU cache holds ${model.length} tokens, the caller passed ${P}`);
      for (let i = 1; i < positions.length; i++) if (positions[i] !== positions[0] + i) throw new Error('internal: webgpu runner takes consecutive positions');
      // one token after a prefill is a decode step (GEMV + split-K attention), as in generation
      if (ids.length === 1 && P > 0 && positions[0] === model.position) {
        await model.decode(ids[0]);
        return { logits: await model.logits(), present: shaped(model.length) };
      }
      const logits = await model.prefill(Array.from(ids), positions[0], { allLogits: true });
      return { logits, present: shaped(model.length) };
    },
    emptyCache: () => shaped(0),
    dispose: async () => {
      model.dispose();
      gpu.destroy();
    },
  };
}
