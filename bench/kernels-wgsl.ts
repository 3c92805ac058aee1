// Benchmark of the WGSL GEMV kernels (not a test). Prints, with --json:
// {"adapter", "gemv_int4": {"gbps", "ort_webgpu_gbps", ...}, "gemv_int8": {...}, "read_gbps"}
// gbps = bytes of weights (packed data + scales) per second of GEMV in steady state, first shape
// 4096x4096 (per-shape numbers, including 2048x8192, under "shapes"): ONE compute pass holds many
// GEMV dispatches over enough DISTINCT weight copies (>= 256 MiB on a GPU, past its 50 MiB L2) and
// is timed by GPU timestamps written at its beginning and end; bytes = all weight bytes the pass
// reads (method "pass_timestamp"; "wall" on an adapter without timestamp queries). Beside it:
// gbps_wall (wall clock of the same batch: includes Dawn's command recording at submit),
// single_us / gbps_single (one GEMV alone in its own timestamped pass: latency, not bandwidth) and
// gbps_stream (one dispatch over a tall matrix, the copies stacked as rows: the kernel's
// streaming rate without per-dispatch costs; its rows are checked equal to the normal output).
// ort_webgpu_gbps: onnxruntime-node's WebGPU EP running MatMulNBits of the same shape and bits on
// the same adapter, counted with the SAME byte total as ours (wall clock of session.run, as before).
// ceiling_gbps: the steady-state rate of a kernel that streamed at read_gbps, given the measured GPU
// cost of one dispatch (bytes / (bytes / read + dispatch_gpu_us)). Per shape, "q8" is the same set
// of measurements for the int8-activation kernel (quant_x + gemv_q8; x quantized once per timed
// list, that dispatch included), with quant_x_us, its output's distance to the float kernel's, and
// its own rival: ORT's MatMulNBits with accuracy_level 4 (ORT quantizes x to int8 as well).
import * as ort from 'onnxruntime-node';
import protoPkg from 'onnx-proto';
import { openGpu, readBytes, readF32, storage, encode, type Dispatch, type Gpu } from '../kernels-wgsl/gpu.js';
import { gemv, gemvQ8, q8Vector, quantizeX, readKernel, uploadMatrix, variantsFor, type GemvOptions, type GemvQ8Options, type GpuMatrix, type MatVariant } from '../kernels-wgsl/kernels.js';
import { packedBytes, packQuantized, type PackedMatrix } from '../kernels-wgsl/pack.js';
import { randomF32, randomQuantized, relMaxErr, rng } from '../kernels-wgsl/reference.js';
import type { QuantizedMatrix, QuantScheme } from '../compiler/ir/quantized.js';

const { onnx } = protoPkg;
const args = new Set(process.argv.slice(2));
const JSON_OUT = args.has('--json');
// --quick (for short GPU sessions): the float-activation kernels only in their best known configs,
// no ORT comparison; the int8-activation sweep stays whole
const QUICK = args.has('--quick');
const log = (...a: unknown[]): void => {
  if (!JSON_OUT || args.has('--verbose')) console.error(...a);
};

const SHAPES: readonly [number, number][] = [
  [4096, 4096],
  [2048, 8192],
];

/** Wall time of `reps` passes over `dispatches` in one submission, per pass (seconds). */
async function timeBatch(gpu: Gpu, dispatches: readonly Dispatch[], reps: number): Promise<number> {
  const enc = gpu.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (let r = 0; r < reps; r++) for (const d of dispatches) encode(pass, d);
  pass.end();
  const t0 = performance.now();
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
  return (performance.now() - t0) / 1000 / reps;
}

/** Best-of-3 seconds per pass, with the batch grown until one batch takes >= minSeconds. */
async function measure(gpu: Gpu, dispatches: readonly Dispatch[], minSeconds: number): Promise<number> {
  await timeBatch(gpu, dispatches, 1); // warm-up (pipeline compile, first touch)
  let reps = 1;
  let t = await timeBatch(gpu, dispatches, reps);
  while (t * reps < minSeconds && reps < 4096) {
    reps = Math.min(4096, Math.ceil((minSeconds / Math.max(t, 1e-7)) * 1.2));
    t = await timeBatch(gpu, dispatches, reps);
  }
  let best = t;
  for (let i = 0; i < 2; i++) best = Math.min(best, await timeBatch(gpu, dispatches, reps));
  return best;
}

/**
 * GPU time of `reps` runs of `dispatches` recorded back to back in ONE compute pass, from the
 * timestamps written at the pass's beginning and end (seconds per run of the list).
 */
async function passSeconds(gpu: Gpu, dispatches: readonly Dispatch[], reps: number): Promise<number> {
  const qs = gpu.device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = gpu.device.createBuffer({ size: 16, usage: 0x200 | 0x04 }); // QUERY_RESOLVE | COPY_SRC
  const enc = gpu.device.createCommandEncoder();
  const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  for (let r = 0; r < reps; r++) for (const d of dispatches) encode(pass, d);
  pass.end();
  enc.resolveQuerySet(qs, 0, 2, resolve, 0);
  gpu.device.queue.submit([enc.finish()]);
  const t = new BigUint64Array(await readBytes(gpu, resolve, 16));
  qs.destroy();
  resolve.destroy();
  const s = Number(t[1] - t[0]) / 1e9 / reps;
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`kernels-wgsl bench: bad pass timestamps ${t[0]} .. ${t[1]}`);
  return s;
}

/** Best-of-3 GPU seconds per run of `dispatches` in one timestamped pass, grown to >= minSeconds. */
async function measurePass(gpu: Gpu, dispatches: readonly Dispatch[], minSeconds: number): Promise<number> {
  await passSeconds(gpu, dispatches, 1); // warm-up
  let reps = 1;
  let t = await passSeconds(gpu, dispatches, reps);
  while (t * reps < minSeconds && reps < 4096) {
    reps = Math.min(4096, Math.ceil((minSeconds / Math.max(t, 1e-7)) * 1.2));
    t = await passSeconds(gpu, dispatches, reps);
  }
  let best = t;
  for (let i = 0; i < 2; i++) best = Math.min(best, await passSeconds(gpu, dispatches, reps));
  return best;
}

/**
 * GPU time of one dispatch alone: each dispatch in its own timestamped compute pass (seconds per
 * pass, mean over the batch). Latency of a single GEMV, not a bandwidth measurement.
 */
async function timestamped(gpu: Gpu, dispatches: readonly Dispatch[], reps: number): Promise<number | null> {
  if (!gpu.features.timestamp) return null;
  const passes = Math.min(2048, dispatches.length * reps);
  const qs = gpu.device.createQuerySet({ type: 'timestamp', count: 2 * passes });
  const resolve = gpu.device.createBuffer({ size: 16 * passes, usage: 0x200 | 0x04 }); // QUERY_RESOLVE | COPY_SRC
  const enc = gpu.device.createCommandEncoder();
  for (let i = 0; i < passes; i++) {
    const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    encode(pass, dispatches[i % dispatches.length]);
    pass.end();
  }
  enc.resolveQuerySet(qs, 0, 2 * passes, resolve, 0);
  gpu.device.queue.submit([enc.finish()]);
  const t = new BigUint64Array(await readBytes(gpu, resolve, 16 * passes));
  let ns = 0n;
  for (let i = 0; i < passes; i++) ns += t[2 * i + 1] - t[2 * i];
  qs.destroy();
  resolve.destroy();
  return Number(ns) / passes / 1e9;
}

/** f32x: the float-activation kernels (gemv*.wgsl); q8x: int8 activations (quant_x + gemv_q8). */
type Family = 'f32x' | 'q8x';

interface Config {
  variant: MatVariant;
  wg: number;
  rows: number;
  stageX?: boolean;
  magic?: boolean;
  /** q8x: threads per row group (0: the subgroup variant, a subgroup per row group) */
  tpr?: number;
  /** q8x and rg: chunks per loop trip */
  unroll?: 1 | 2;
}

function candidatesQ8(gpu: Gpu, cpu: boolean): Config[] {
  const geo: [number, number, number][] = cpu
    ? [
        [16, 8, 4],
        [8, 8, 4],
        [16, 16, 4],
        [32, 8, 8],
        [16, 4, 4],
        [8, 1, 4],
      ]
    : [
        [64, 16, 4],
        [128, 32, 4],
        [128, 16, 4],
        [256, 32, 4],
        [64, 8, 8],
        [128, 32, 2],
        [256, 64, 2],
        [128, 128, 1],
        [32, 32, 4],
        [64, 32, 8],
        [256, 32, 8],
      ];
  const out: Config[] = geo.map(([wg, tpr, rows]) => ({ variant: 'base', wg, tpr, rows }));
  // subgroup variant: a subgroup per row group (tpr 0 marks it)
  const sgGeo: [number, number][] = cpu
    ? [
        [16, 4],
        [8, 4],
        [32, 8],
        [16, 2],
      ]
    : [
        [32, 2],
        [32, 4],
        [64, 1],
        [64, 2],
        [64, 4],
        [128, 2],
        [128, 4],
        [128, 8],
        [256, 2],
        [256, 4],
      ];
  if (gpu.features.subgroups) for (const [wg, rows] of sgGeo) out.push({ variant: 'sg', wg, tpr: 0, rows });
  // two chunks per loop trip: more loads in flight per thread
  const unrolled: [number, number, number][] = cpu
    ? [
        [16, 8, 4],
        [16, 0, 4],
      ]
    : [
        [64, 16, 4],
        [128, 32, 2],
        [128, 0, 2],
        [128, 0, 4],
        [64, 0, 4],
        [256, 0, 2],
      ];
  for (const [wg, tpr, rows] of unrolled) if (tpr || gpu.features.subgroups) out.push({ variant: tpr ? 'base' : 'sg', wg, tpr, rows, unroll: 2 });
  return out;
}

function candidates(gpu: Gpu, cpu: boolean, family: Family): Config[] {
  if (family === 'q8x') return candidatesQ8(gpu, cpu);
  if (QUICK) {
    const best: Config[] = cpu
      ? [
          { variant: 'sg', wg: 16, rows: 8, magic: false },
          { variant: 'base', wg: 16, rows: 8 },
        ]
      : [
          { variant: 'sg', wg: 128, rows: 8 },
          { variant: 'base', wg: 64, rows: 4 },
        ];
    return [...best.filter((c) => variantsFor(gpu, 'gemv').includes(c.variant)), ...rgCandidates(gpu, cpu)];
  }
  const vs = variantsFor(gpu, 'gemv').filter((v) => v === 'sg' || v === 'base');
  const geo: [number, number][] = cpu
    ? [
        [8, 4],
        [16, 4],
        [32, 4],
        [64, 4],
        [16, 8],
      ]
    : [
        [64, 4],
        [128, 4],
        [128, 8],
        [64, 8],
        [32, 8],
        [256, 4],
        [128, 16],
        [64, 16],
        [32, 16],
      ];
  const out: Config[] = [];
  for (const variant of vs) for (const [wg, rows] of geo) out.push({ variant, wg, rows });
  // the kernel's other x path (CPU default: direct loads; GPU default: staged), for comparison
  for (const variant of vs) out.push({ variant, wg: cpu ? 16 : 128, rows: cpu ? 8 : 4, stageX: cpu });
  // plain int->float conversions instead of the 2^23 trick, for comparison
  for (const variant of vs) out.push({ variant, wg: cpu ? 16 : 64, rows: cpu ? 8 : 4, magic: false });
  return [...out, ...rgCandidates(gpu, cpu)];
}

/** The rg variant (row group per subgroup, x staged once for the whole K), where subgroups exist. */
function rgCandidates(gpu: Gpu, cpu: boolean): Config[] {
  if (!variantsFor(gpu, 'gemv').includes('rg')) return [];
  const geo: [number, number, 1 | 2][] = cpu
    ? [
        [16, 4, 1],
        [8, 4, 1],
        [32, 8, 1],
      ]
    : [
        [64, 4, 1],
        [128, 4, 1],
        [128, 2, 1],
        [256, 4, 1],
        [128, 8, 1],
        [128, 4, 2],
        [64, 2, 2],
        [256, 2, 2],
      ];
  return geo.map(([wg, rows, unroll]) => ({ variant: 'rg', wg, rows, unroll }));
}

const label = (c: Config): string => `${c.tpr === undefined ? c.variant : c.variant === 'sg' ? 'q8 sg' : 'q8'} wg${c.wg}${c.tpr ? ` tpr${c.tpr}` : ''} rows${c.rows}${c.unroll === 2 ? ' u2' : ''}${c.stageX === undefined ? '' : c.stageX ? ' staged-x' : ' direct-x'}${c.magic === false ? ' i2f' : ''}`;
const gemvOptions = (c: Config): GemvOptions => ({ variant: c.variant, wg: c.wg, rows: c.rows, stageX: c.stageX, magic: c.magic, unroll: c.unroll });
const gemvQ8Options = (c: Config): GemvQ8Options => ({ variant: c.variant === 'sg' ? 'sg' : 'base', wg: c.wg, tpr: c.tpr || undefined, rows: c.rows, unroll: c.unroll });

interface Ours {
  /** steady state: pass timestamps (method 'pass_timestamp'), or wall clock without timestamps */
  gbps: number;
  method: 'pass_timestamp' | 'wall';
  seconds: number;
  gbpsWall: number;
  consistent: boolean;
  singleSeconds: number | null;
  gbpsStream: number | null;
  /** max relative difference of the tall matrix's row blocks vs the normal output (expect 0) */
  streamDiff: number | null;
  config: string;
  bestConfig: Config;
  /** q8x: GPU time of quantizing x alone (its own pass) */
  quantSeconds: number | null;
  y: Float32Array;
}

/**
 * The packed single-shard matrix m stacked `times` times along the rows, as one shard (the layout
 * is row-major, so the tall matrix's words are the shard's words repeated, when each shard array
 * ends on a whole word: scales/zeros elements per shard a multiple of 2/8). null when it does not
 * fit one binding or the arrays do not tile.
 */
function tallPacked(m: PackedMatrix, times: number, maxBindingBytes: number): PackedMatrix | null {
  if (m.shards.length !== 1) return null;
  const s = m.shards[0];
  const elems = s.rows * m.groupsPerRow;
  if ((m.scaleF16 && elems % 2 !== 0) || (s.zeros && elems % 8 !== 0)) return null;
  if (Math.max(s.data.byteLength, s.scales.byteLength, s.zeros?.byteLength ?? 0) * times > maxBindingBytes) return null;
  const tile = (a: Uint32Array): Uint32Array => {
    const out = new Uint32Array(a.length * times);
    for (let i = 0; i < times; i++) out.set(a, i * a.length);
    return out;
  };
  const rows = s.rows * times;
  return { ...m, rows, shards: [{ rowBase: 0, rows, data: tile(s.data), scales: tile(s.scales), zeros: s.zeros ? tile(s.zeros) : null }] };
}

async function benchOurs(gpu: Gpu, q: QuantizedMatrix, x: Float32Array, copies: number, streamTimes: number, cpu: boolean, family: Family): Promise<Ours> {
  const packed = packQuantized(q, { maxBindingBytes: gpu.maxBindingBytes });
  const bytes = packedBytes(packed);
  const mats: GpuMatrix[] = [];
  for (let c = 0; c < copies; c++) mats.push(uploadMatrix(gpu, packed));
  const xb = storage(gpu, x);
  // q8x: x is quantized once per timed list (one extra short dispatch, counted in the time), as a
  // decoder quantizes each activation once for all the matrices that read it
  const xq = q8Vector(gpu, q.cols);
  const ys = mats.map(() => storage(gpu, q.rows * 4));
  const one = (c: Config, m: GpuMatrix, y: GPUBuffer): Dispatch[] =>
    family === 'q8x' ? gemvQ8(gpu, m, xq, y, gemvQ8Options(c)) : gemv(gpu, m, xb, y, gemvOptions(c));
  const quant = family === 'q8x' ? [quantizeX(gpu, xb, xq)] : [];
  const build = (c: Config): Dispatch[] => [...quant, ...mats.flatMap((m, i) => one(c, m, ys[i]))];
  const ts = gpu.features.timestamp;
  // seconds per GEMV in steady state: one pass over all copies (GPU timestamps), else wall clock
  const steady = async (d: readonly Dispatch[], minSeconds: number): Promise<number> =>
    (ts ? await measurePass(gpu, d, minSeconds) : await measure(gpu, d, minSeconds)) / copies;
  const swept: { c: Config; t: number }[] = [];
  for (const c of candidates(gpu, cpu, family)) {
    let d: Dispatch[];
    try {
      d = build(c);
    } catch (e) {
      // e.g. rg when this K's x does not fit the device's workgroup memory
      log(`  ${label(c)}: skipped (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const t = await steady(d, cpu ? 0.15 : 0.01);
    log(`  ${label(c)}: ${((bytes / t) * 1e-9).toFixed(2)} GB/s`);
    swept.push({ c, t });
  }
  swept.sort((a, b) => a.t - b.t);
  // the three fastest once more (a GPU's clocks, or a shared CPU's load, can change during the sweep)
  for (const e of swept.slice(0, 3)) e.t = Math.min(e.t, await steady(build(e.c), cpu ? 0.15 : 0.01));
  swept.sort((a, b) => a.t - b.t);
  const best = swept[0];
  if (!best) throw new Error('no gemv variant');
  const final = build(best.c);
  const wall = (await measure(gpu, final, cpu ? 1 : 0.3)) / copies;
  // best of the sweep and a longer final measurement after the long wall-clock batches (ORT
  // likewise gets its best run)
  const t = Math.min(best.t, await steady(final, cpu ? 1 : 0.05));
  // one GEMV alone (x already quantized for q8x: the list's quantization ran above)
  const single = await timestamped(gpu, final.slice(quant.length), cpu ? 1 : Math.ceil(1024 / copies));
  const quantSeconds = quant.length ? await timestamped(gpu, quant, cpu ? 4 : 256) : null;
  const y = await readF32(gpu, ys[0], q.rows);
  mats.forEach((m) => m.destroy());
  ys.forEach((b) => b.destroy());

  // the kernel's streaming rate: one dispatch (per shard) over the copies stacked as rows
  let gbpsStream: number | null = null;
  let streamDiff: number | null = null;
  const tp = tallPacked(packed, streamTimes, gpu.maxBindingBytes);
  if (ts && tp) {
    const tall = uploadMatrix(gpu, tp);
    const yt = storage(gpu, q.rows * streamTimes * 4);
    const d = [...quant, ...one(best.c, tall, yt)];
    const st = await measurePass(gpu, d, cpu ? 0.5 : 0.05);
    gbpsStream = (packedBytes(tp) / st) * 1e-9;
    const yy = await readF32(gpu, yt, q.rows * streamTimes);
    streamDiff = 0;
    for (let i = 0; i < streamTimes; i++) streamDiff = Math.max(streamDiff, relMaxErr(yy.subarray(i * q.rows, (i + 1) * q.rows), y));
    tall.destroy();
    yt.destroy();
  }
  xb.destroy();
  xq.destroy();
  return {
    gbps: (bytes / t) * 1e-9,
    method: ts ? 'pass_timestamp' : 'wall',
    seconds: t,
    gbpsWall: (bytes / wall) * 1e-9,
    // the GPU time of a batch cannot exceed its wall time: false flags a timestamp problem
    consistent: !ts || t <= wall * 1.05,
    singleSeconds: single,
    gbpsStream,
    streamDiff,
    config: label(best.c),
    bestConfig: best.c,
    quantSeconds,
    y,
  };
}

function tensor(name: string, dims: number[], dataType: number, data: Uint8Array | Float32Array): protoPkg.onnx.ITensorProto {
  return { name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * MatMulNBits (com.microsoft), `copies` independent nodes on the same input x [1, K].
 * accuracyLevel 4 lets ORT quantize x to int8 (its WebGPU EP then takes its DP4A path).
 */
function matMulNBitsModel(q: QuantizedMatrix, copies: number, accuracyLevel: 0 | 4): Uint8Array {
  const { rows: N, cols: K, nGroups } = q;
  const bits = q.scheme.bits;
  const block = bits === 4 ? q.scheme.groupSize : 32;
  const nb = Math.ceil(K / block);
  // int8 per-channel is repeated per 32-block (same values) for MatMulNBits' blocked scales,
  // and stored as uint8 with zero point 128 (MatMulNBits' default for 8 bits).
  let B: Uint8Array;
  let S: Float32Array;
  if (bits === 4) {
    B = new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength);
    S = q.scales;
  } else {
    B = new Uint8Array(N * nb * block);
    const d = q.data;
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) B[n * nb * block + k] = d[n * K + k] + 128;
    for (let n = 0; n < N; n++) for (let k = K; k < nb * block; k++) B[n * nb * block + k] = 128;
    S = new Float32Array(N * nb);
    for (let n = 0; n < N; n++) S.fill(q.scales[n * nGroups], n * nb, (n + 1) * nb);
  }
  const dim = (d: number): protoPkg.onnx.TensorShapeProto.IDimension => ({ dimValue: d });
  const vi = (name: string, dims: number[]): protoPkg.onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map(dim) } } } });
  const nodes: protoPkg.onnx.INodeProto[] = [];
  const inits: protoPkg.onnx.ITensorProto[] = [];
  const outputs: protoPkg.onnx.IValueInfoProto[] = [];
  for (let c = 0; c < copies; c++) {
    inits.push(tensor(`B${c}`, [N, nb, (block * bits) / 8], 2, B), tensor(`S${c}`, [N * nb], 1, S));
    nodes.push({
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      input: ['x', `B${c}`, `S${c}`],
      output: [`y${c}`],
      attribute: [
        { name: 'K', type: 2, i: K },
        { name: 'N', type: 2, i: N },
        { name: 'bits', type: 2, i: bits },
        { name: 'block_size', type: 2, i: block },
        ...(accuracyLevel ? [{ name: 'accuracy_level', type: 2, i: accuracyLevel }] : []),
      ],
    });
    outputs.push(vi(`y${c}`, [1, N]));
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: 'matmulnbits', node: nodes, initializer: inits, input: [vi('x', [1, K])], output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

interface OrtResult {
  seconds: number;
  y: Float32Array;
}

async function benchOrt(q: QuantizedMatrix, x: Float32Array, copies: number, cpu: boolean, accuracyLevel: 0 | 4 = 0): Promise<OrtResult | string> {
  try {
    const session = await ort.InferenceSession.create(matMulNBitsModel(q, copies, accuracyLevel), { executionProviders: ['webgpu'] });
    const feeds = { x: new ort.Tensor('float32', x, [1, q.cols]) };
    let out = await session.run(feeds); // warm-up
    const minSeconds = cpu ? 1 : 0.3;
    let best = Infinity;
    let runs = 0;
    const t0 = performance.now();
    while (runs < 3 || (performance.now() - t0) / 1000 < minSeconds) {
      const t = performance.now();
      out = await session.run(feeds);
      best = Math.min(best, (performance.now() - t) / 1000 / copies);
      runs++;
    }
    const y0 = out.y0;
    const y = y0 && y0.data instanceof Float32Array ? y0.data : new Float32Array(0);
    await session.release();
    return { seconds: best, y };
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
}

async function main(): Promise<void> {
  // unquantized pass timestamps (Dawn rounds them by default)
  const gpu = await openGpu({ dawnOptions: ['disable-dawn-features=timestamp_quantization'] });
  if (!gpu) throw new Error('no WebGPU adapter (run .ci/install-wgsl.sh for lavapipe)');
  const cpu = gpu.cpu;
  // weight bytes per timed pass: distinct copies past the last-level cache (H100 L2: 50 MiB)
  const targetBytes = cpu ? 96 * 2 ** 20 : 768 * 2 ** 20;
  const streamBytes = cpu ? 96 * 2 ** 20 : 256 * 2 ** 20; // the tall matrix of gbps_stream
  const ortMaxBytes = cpu ? 96 * 2 ** 20 : 320 * 2 ** 20; // ORT's model is one protobuf in memory
  const t0 = performance.now();
  const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  log(`adapter: ${gpu.adapterName}`);
  const result: Record<string, unknown> = { adapter: gpu.adapterName };

  // plain read kernel over one large buffer (first, so a cut-short run still logs it)
  const readTotal = Math.min(gpu.maxBindingBytes, cpu ? 96 * 2 ** 20 : 2 ** 30);
  const words = Math.floor(readTotal / 16);
  const src = storage(gpu, words * 16);
  const sink = storage(gpu, 16);
  let bestRead = 0;
  let bestReadTs = 0;
  for (const wg of [64, 256]) {
    const d = readKernel(gpu, src, words, sink, wg);
    const t = await measure(gpu, [d], cpu ? 0.5 : 0.3);
    bestRead = Math.max(bestRead, ((words * 16) / t) * 1e-9);
    if (gpu.features.timestamp) {
      const ts = await measurePass(gpu, [d], cpu ? 0.5 : 0.05);
      bestReadTs = Math.max(bestReadTs, ((words * 16) / ts) * 1e-9);
    }
  }
  src.destroy();
  // fixed cost of one dispatch in a back-to-back batch (a 1-workgroup read writing its own buffer):
  // wall clock (includes Dawn's recording at submit) and GPU time inside one pass
  const tiny = storage(gpu, 16);
  const tinyDispatches = Array.from({ length: 64 }, () => readKernel(gpu, tiny, 1, storage(gpu, 16), 64));
  const dispatchUs = ((await measure(gpu, tinyDispatches, cpu ? 0.2 : 0.1)) / tinyDispatches.length) * 1e6;
  const dispatchGpuUs = gpu.features.timestamp ? ((await measurePass(gpu, tinyDispatches, cpu ? 0.2 : 0.01)) / tinyDispatches.length) * 1e6 : null;
  log(`read ${bestRead.toFixed(1)} GB/s (pass timestamps ${bestReadTs.toFixed(1)}), dispatch ${dispatchUs.toFixed(2)} us wall, ${dispatchGpuUs?.toFixed(2)} us GPU [${elapsed()}]`);

  for (const [name, scheme] of [
    ['gemv_int4', { bits: 4, groupSize: 32, symmetric: true, scaleDtype: 'f16', method: 'rtn' }],
    ['gemv_int8', { bits: 8, groupSize: 0, symmetric: true, scaleDtype: 'f16', method: 'rtn' }],
  ] as [string, QuantScheme][]) {
    const shapes: Record<string, unknown> = {};
    for (const [N, K] of SHAPES) {
      const r = rng(N + K + scheme.bits);
      const q = randomQuantized(r, N, K, scheme);
      const x = randomF32(r, K);
      const bytes = packedBytes(packQuantized(q, { maxBindingBytes: gpu.maxBindingBytes }));
      const copies = Math.max(2, Math.ceil(targetBytes / bytes));
      const streamTimes = Math.max(2, Math.round(streamBytes / bytes));
      log(`${name} ${N}x${K}: ${(bytes / 2 ** 20).toFixed(2)} MiB per matrix, ${copies} copies per pass, ${streamTimes} stacked for stream [${elapsed()}]`);
      const ours = await benchOurs(gpu, q, x, copies, streamTimes, cpu, 'f32x');
      const ortCopies = Math.max(1, Math.min(copies, Math.floor(ortMaxBytes / bytes)));
      const o = QUICK ? 'skipped (--quick)' : await benchOrt(q, x, ortCopies, cpu);
      const entry: Record<string, unknown> = {
        gbps: round(ours.gbps),
        method: ours.method,
        us: round(ours.seconds * 1e6),
        pct_of_read: round((ours.gbps / (ours.method === 'pass_timestamp' && bestReadTs ? bestReadTs : bestRead)) * 100),
        config: ours.config,
        copies,
        gbps_wall: round(ours.gbpsWall),
        timestamp_le_wall: ours.consistent,
        single_us: ours.singleSeconds === null ? null : round(ours.singleSeconds * 1e6),
        gbps_single: ours.singleSeconds === null ? null : round((bytes / ours.singleSeconds) * 1e-9),
        gbps_stream: ours.gbpsStream === null ? null : round(ours.gbpsStream),
        stream_max_rel_diff: ours.streamDiff,
        // what a kernel streaming at the read kernel's rate would reach in this steady state, given
        // the measured fixed GPU cost of one dispatch: bytes / (bytes / read + dispatch)
        ceiling_gbps: dispatchGpuUs === null || !bestReadTs ? null : round(bytes / (bytes / (bestReadTs * 1e9) + dispatchGpuUs * 1e-6) * 1e-9),
      };
      if (typeof o === 'string') {
        entry.ort_webgpu_gbps = null;
        entry.ort_error = o;
      } else {
        entry.ort_webgpu_gbps = round((bytes / o.seconds) * 1e-9);
        entry.ort_us = round(o.seconds * 1e6);
        // same bits in, so the outputs must agree (different summation order only)
        entry.ort_max_rel_diff = Number(relMaxErr(ours.y, o.y).toExponential(2));
      }
      // the int8-activation kernel (another numerics class: x rounded per block of 32), same bytes
      if (gpu.features.dot4) {
        const q8 = await benchOurs(gpu, q, x, copies, streamTimes, cpu, 'q8x');
        entry.q8 = {
          gbps: round(q8.gbps),
          us: round(q8.seconds * 1e6),
          pct_of_read: round((q8.gbps / (q8.method === 'pass_timestamp' && bestReadTs ? bestReadTs : bestRead)) * 100),
          config: q8.config,
          gbps_wall: round(q8.gbpsWall),
          timestamp_le_wall: q8.consistent,
          single_us: q8.singleSeconds === null ? null : round(q8.singleSeconds * 1e6),
          gbps_stream: q8.gbpsStream === null ? null : round(q8.gbpsStream),
          stream_max_rel_diff: q8.streamDiff,
          quant_x_us: q8.quantSeconds === null ? null : round(q8.quantSeconds * 1e6),
          // the price of int8 activations on this random data, vs the float-activation kernel
          max_rel_diff_vs_f32x: Number(relMaxErr(q8.y, ours.y).toExponential(2)),
        };
        // the like-for-like rival: ORT's MatMulNBits with accuracy_level 4 (int8 activations)
        const o4 = QUICK ? 'skipped (--quick)' : await benchOrt(q, x, ortCopies, cpu, 4);
        const q8e = entry.q8 as Record<string, unknown>;
        if (typeof o4 === 'string') {
          q8e.ort_webgpu_gbps = null;
          q8e.ort_error = o4;
        } else {
          q8e.ort_webgpu_gbps = round((bytes / o4.seconds) * 1e-9);
          q8e.ort_us = round(o4.seconds * 1e6);
          q8e.ort_max_rel_diff = Number(relMaxErr(q8.y, o4.y).toExponential(2));
        }
      }
      log(`  -> ${JSON.stringify(entry)} [${elapsed()}]`);
      shapes[`${N}x${K}`] = entry;
    }
    const first = shapes[`${SHAPES[0][0]}x${SHAPES[0][1]}`] as Record<string, unknown>;
    result[name] = {
      gbps: first.gbps,
      ort_webgpu_gbps: first.ort_webgpu_gbps,
      method: first.method,
      pct_of_read: first.pct_of_read,
      gbps_wall: first.gbps_wall,
      single_us: first.single_us,
      gbps_stream: first.gbps_stream,
      gbps_q8: (first.q8 as Record<string, unknown> | undefined)?.gbps ?? null,
      shapes,
    };
  }

  // A whole decode step (every layer, embedding and lm_head) is timed through the WebGPU target's
  // runtime in bench/webgpu.ts, on the schedule lowered from the IR (kernels-wgsl/layer.ts, a
  // hand-composed layer, is gone: the lowering is the one description of the model).

  result.read_gbps = round(bestRead);
  result.read_gbps_timestamp = bestReadTs ? round(bestReadTs) : null;
  result.dispatch_us = round(dispatchUs);
  result.dispatch_gpu_us = dispatchGpuUs === null ? null : round(dispatchGpuUs);
  gpu.destroy();
  if (JSON_OUT) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

await main();
