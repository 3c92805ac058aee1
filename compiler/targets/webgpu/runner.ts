// Runs an emitted WebGPU artifact in Node (Dawn; lavapipe without a GPU) through the artifact's own
// runtime module, so verify/eval exercise exactly what a browser loads.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** The stateful runner contract over the runtime: the KV cache lives on the GPU. */
export async function webgpuRunner(dir: string, opts: Omit<LoadOptions, 'device'> = {}): Promise<ModelRunner> {
  const { model, gpu } = await loadArtifact(dir, opts);
  return {
    target: 'webgpu',
    vocabSize: model.schedule.model.vocabSize,
    prefill: async (ids, startPos) => model.prefill(ids, startPos, { allLogits: true }),
    // a decode step: GEMV + split-K attention, as in generation
    decode: async (id) => {
      await model.decode(id);
      return model.logits();
    },
    reset: () => model.reset(),
    dispose: async () => {
      model.dispose();
      gpu.destroy();
    },
  };
}
