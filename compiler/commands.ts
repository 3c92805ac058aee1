// The CLI's commands as API functions: each takes parsed options and returns what to print.
// bin/llamac.ts only parses and wires.

import { checkpointStats } from './checkpoint/checkpoint.js';
import type { HubOptions } from './checkpoint/hub.js';
import { buildForTarget, emitArtifact, loadModel, pipelineFor, runnerFor, type BuildOptions, type LoadedModel } from './compile.js';
import { writeVerifyReport } from './build/verify-report.js';
import { LlamacError } from './errors.js';
import { loadTokenIds, perplexity, type PerplexityResult } from './eval/perplexity.js';
import { printGraph } from './ir/printer.js';
import { lookupPass } from './pipeline.js';
import { escapeControls } from './messages.js';
import { prepareOutput } from './output.js';
import { makeQuantConfig, type QuantCliOptions } from './passes/quant-config.js';
import { progressBar } from './progress.js';
import { synthCheckpoint, type SynthPresetName } from './synth.js';
import { lookupTarget } from './targets/index.js';
import type { GivenOptions } from './targets/options.js';
import { referenceRunner } from './targets/runner.js';
import type { Target } from './targets/target.js';
import { checkTokenIds } from './validate-options.js';
import { loadGolden } from './verify/golden.js';
import { goldenFromRunner } from './verify/reference-golden.js';
import { formatVerifyReport, verifyAgainstGolden, type VerifyReport } from './verify/verify.js';
import { boundsKey, goldenThresholds, referenceThresholds } from './verify/thresholds.js';

export interface CommonOptions extends HubOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

export interface BuildCliOptions extends QuantCliOptions, CommonOptions {
  readonly target: string;
  readonly fuse: boolean;
  readonly calibrationFile?: string;
  /** The target's own options as given (strings by optionKey, e.g. { onnxOps: 'standard' }), in spec order. */
  readonly targetOptions?: GivenOptions;
  readonly dumpIrAfter?: string;
}

export type Print = (text: string) => void;

/** The target and its options, checked before anything is read (unknown target or bad value: one error line). */
function checkedTarget(o: BuildCliOptions): Target {
  const target = lookupTarget(o.target);
  target.checkOptions(o.targetOptions ?? {});
  return target;
}

function buildOptions(o: BuildCliOptions, print: Print, err: Print): BuildOptions {
  const calibration = o.calibrationFile === 'self' || o.calibrationFile === 'auto' ? o.calibrationFile : o.calibrationFile ? loadTokenIds(o.calibrationFile) : undefined;
  const quant = makeQuantConfig({ ...o, calibration });
  const targetOptions = o.targetOptions ?? {};
  const recorded: Record<string, string | number | boolean> = { target: o.target, quant: o.quant, fuse: o.fuse };
  if (o.groupSize !== undefined) recorded['groupSize'] = o.groupSize;
  if (o.symmetric !== undefined) recorded['symmetric'] = o.symmetric;
  if (o.scaleDtype) recorded['scaleDtype'] = o.scaleDtype;
  if (o.method) recorded['quantMethod'] = o.method;
  if (o.quantEmbeddings) recorded['quantEmbeddings'] = o.quantEmbeddings;
  if (o.calibrationFile) recorded['calibration'] = o.calibrationFile;
  for (const [key, value] of Object.entries(targetOptions)) recorded[key] = value;
  return {
    target: o.target,
    quant,
    fuse: o.fuse,
    targetOptions,
    recordedOptions: recorded,
    log: o.verbose ? err : () => {},
    // A bar on a terminal; --json and --verbose (which logs every step) keep stderr line-based.
    progress: o.json || o.verbose ? undefined : progressBar(),
    hooks: {
      dumpIrAfter: o.dumpIrAfter,
      dump: (pass, text) => print(`// IR after ${pass}\n${text}`),
      timing: o.verbose ? (pass, ms) => err(`pass ${pass}: ${ms.toFixed(1)} ms`) : undefined,
    },
  };
}

/** Checks that need the model's config (read with the headers, before any weight). */
function checkAgainstModel(o: BuildCliOptions, opts: BuildOptions, loaded: LoadedModel): void {
  if (Array.isArray(opts.quant.calibration)) checkTokenIds(opts.quant.calibration, loaded.checkpoint.config.vocabSize, '--calibration', o.calibrationFile ?? '');
}

export async function inspectCommand(model: string, o: CommonOptions & { ir?: boolean }, print: Print): Promise<void> {
  const { checkpoint: ck, graph } = await loadModel(model, o);
  if (o.ir) {
    print(printGraph(graph));
    return;
  }
  const c = ck.config;
  const stats = checkpointStats(ck);
  if (o.json) {
    const tensors = [...ck.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, file: t.file, offset: t.offset }));
    print(JSON.stringify({ dir: ck.dir, config: c, params: stats.params, bytes_by_dtype: stats.bytesByDtype, files: ck.files, tensors }, null, 2));
    return;
  }
  const lines = [
    `model: ${ck.dir}`,
    `architecture: llama, ${c.numLayers} layers, hidden ${c.hiddenSize}, heads ${c.numHeads} (kv ${c.numKvHeads}), head_dim ${c.headDim}, ffn ${c.intermediateSize}, vocab ${c.vocabSize}`,
    `rope: theta ${c.ropeTheta}, ${c.ropeScaling.type === 'llama3' ? `llama3 scaling (factor ${c.ropeScaling.factor}, low ${c.ropeScaling.lowFreqFactor}, high ${c.ropeScaling.highFreqFactor}, original ${c.ropeScaling.originalMaxPositions})` : 'no scaling'}`,
    `context: ${c.maxPositions}, rms_norm_eps ${c.rmsNormEps}, lm_head ${c.tiedEmbeddings ? 'tied to embeddings' : 'separate'}, declared dtype ${c.declaredDtype ?? 'n/a'}`,
    `files: ${ck.files.length} (${ck.files.map((f) => f.split('/').pop()).join(', ')})`,
    `parameters: ${stats.params.toLocaleString('en-US')}`,
    `bytes: ${Object.entries(stats.bytesByDtype).filter(([, b]) => b > 0).map(([d, b]) => `${d} ${b.toLocaleString('en-US')}`).join(', ')}`,
    '',
    'tensor'.padEnd(52) + 'dtype'.padEnd(6) + 'shape',
  ];
  // Names come from the header: escaped, so a hostile one cannot drive the terminal.
  for (const t of ck.tensors.values()) lines.push(escapeControls(t.name).padEnd(52) + t.dtype.padEnd(6) + `[${t.shape.join(', ')}]`);
  print(lines.join('\n'));
}

export async function verifyCommand(model: string, o: BuildCliOptions & { golden: string; report?: string }, print: Print, err: Print): Promise<boolean> {
  const t0 = performance.now();
  const target = checkedTarget(o);
  const golden = loadGolden(o.golden);
  const opts = buildOptions(o, print, err);
  const loaded = await loadModel(model, o);
  checkAgainstModel(o, opts, loaded);
  const built = await buildForTarget(loaded, opts);
  const { runner, cleanup } = await runnerFor(built);
  let report: VerifyReport;
  let vsReference: VerifyReport | null = null;
  try {
    const key = boundsKey(opts.quant);
    const refBounds = referenceThresholds(target, key, built.ctx.options);
    if (refBounds) {
      // Held to the interpreter (in the mode the target declares) on the same quantized graph.
      const ref = referenceRunner(built.graph, built.ctx.reader, target.referenceMode(built.ctx.options));
      try {
        vsReference = await verifyAgainstGolden(runner, await goldenFromRunner(golden, ref), o.quant, refBounds);
      } finally {
        await ref.dispose();
      }
    }
    report = await verifyAgainstGolden(runner, golden, o.quant, goldenThresholds(target, key, built.ctx.options));
  } finally {
    await cleanup();
  }
  const pass = report.pass && (vsReference?.pass ?? true);
  if (o.report) await writeVerifyReport(o.report, model, built, golden, report, vsReference, (performance.now() - t0) / 1000);
  if (o.json) {
    print(JSON.stringify(vsReference ? { ...report, pass, golden_pass: report.pass, vs_reference: vsReference } : report));
  } else {
    if (vsReference) print('against the reference interpreter (same quantized graph):\n' + formatVerifyReport(vsReference) + '\nagainst the golden outputs:');
    print(formatVerifyReport(report));
  }
  return pass;
}

export async function evalCommand(model: string, o: BuildCliOptions & { ids: string; maxLen?: number }, print: Print, err: Print): Promise<PerplexityResult> {
  checkedTarget(o);
  const sequences = loadTokenIds(o.ids);
  if (o.calibrationFile && o.calibrationFile !== 'self' && o.calibrationFile !== 'auto') {
    // Calibrating on the text being scored would flatter the result.
    const evalSet = new Set(sequences.map((s) => s.join(',')));
    const overlap = loadTokenIds(o.calibrationFile).findIndex((s) => evalSet.has(s.join(',')));
    if (overlap >= 0) throw new LlamacError(`--calibration: ${o.calibrationFile} sequence ${overlap} is also in the evaluation set ${o.ids}`);
  }
  const opts = buildOptions(o, print, err);
  const loaded = await loadModel(model, o);
  checkAgainstModel(o, opts, loaded);
  checkTokenIds(sequences, loaded.checkpoint.config.vocabSize, '--ids', o.ids);
  const built = await buildForTarget(loaded, opts);
  const maxLen = o.maxLen ?? loaded.checkpoint.config.maxPositions;
  const { runner, cleanup } = await runnerFor(built);
  try {
    const r = await perplexity(runner, sequences, maxLen);
    print(o.json ? JSON.stringify(r) : `mean_nll ${r.mean_nll.toFixed(6)} nats/token, perplexity ${r.ppl.toFixed(4)} over ${r.tokens} tokens (target ${runner.target}, quant ${o.quant})`);
    return r;
  } finally {
    await cleanup();
  }
}

export async function compileCommand(model: string, o: BuildCliOptions & { out?: string; printPipeline?: boolean }, print: Print, err: Print): Promise<void> {
  const target = checkedTarget(o);
  const opts = buildOptions(o, print, err);
  if (o.printPipeline) {
    for (const name of pipelineFor(target, opts)) print(`${name.padEnd(22)} ${lookupPass(name).description}`);
    return;
  }
  if (!o.out) throw new LlamacError('--out: required (the artifact folder to write)');
  // --out is claimed before the model is read, so a bad --out fails in milliseconds.
  const slot = prepareOutput(o.out);
  let built;
  try {
    const loaded = await loadModel(model, o);
    checkAgainstModel(o, opts, loaded);
    built = await buildForTarget(loaded, opts);
  } catch (e) {
    slot.abort();
    throw e;
  }
  const dest = await emitArtifact(built, slot);
  print(o.json ? JSON.stringify({ out: dest, target: o.target, quant: o.quant }) : `wrote ${dest} (target ${o.target}, quant ${o.quant})`);
}

export function synthCommand(o: { preset: string; out: string; layers?: number }, print: Print): void {
  synthCheckpoint(o.preset as SynthPresetName, o.out, { layers: o.layers });
  print(`wrote ${o.out} (${o.preset}${o.layers ? `, ${o.layers} layers` : ''})`);
}
