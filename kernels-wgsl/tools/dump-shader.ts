// Prints what Dawn hands the driver for one kernel: the WGSL and Tint's SPIR-V disassembly (Dawn's
// dump_shaders toggle; Dawn itself writes them to stdout). The SPIR-V is the same on any Vulkan
// adapter with the same capabilities, so the code a GPU's driver compiles can be read on lavapipe.
// Usage: node dist/kernels-wgsl/tools/dump-shader.js <file.wgsl> [NAME=value ...] [--null]
import { openGpu, pipeline, type OverrideValues } from '../gpu.js';

async function main(argv: readonly string[]): Promise<number> {
  const file = argv.find((a) => a.endsWith('.wgsl'));
  if (!file) {
    console.error('usage: dump-shader <file.wgsl> [NAME=value ...] [--null]');
    return 2;
  }
  const overrides: OverrideValues = {};
  for (const a of argv) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.+)$/.exec(a);
    if (!m) continue;
    const v = m[2] === 'true' ? true : m[2] === 'false' ? false : Number(m[2]);
    if (typeof v === 'number' && !Number.isFinite(v)) {
      console.error(`dump-shader: override ${m[1]} needs a number, true or false, not '${m[2]}'`);
      return 2;
    }
    overrides[m[1]] = v;
  }
  const gpu = await openGpu({ backend: argv.includes('--null') ? 'null' : 'default', dawnOptions: ['enable-dawn-features=dump_shaders'] });
  if (!gpu) {
    console.error('dump-shader: no WebGPU adapter');
    return 1;
  }
  try {
    gpu.device.pushErrorScope('validation');
    pipeline(gpu, file, overrides);
    const err = await gpu.device.popErrorScope();
    if (err) {
      console.error(`dump-shader: ${file}: ${err.message.split('\n')[0]}`);
      return 1;
    }
    await gpu.device.queue.onSubmittedWorkDone();
  } finally {
    gpu.destroy();
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`dump-shader: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  process.exitCode = 1;
}
// Dawn's instance keeps the event loop alive; leave once the dump is written.
process.exit();
