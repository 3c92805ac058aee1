// Graph -> model.onnx + model.onnx.data. Runtime I/O follows onnxruntime-genai / transformers.js:
// input_ids, attention_mask, position_ids, past_key_values.{i}.key|value -> logits,
// present.{i}.key|value, with dynamic batch, sequence and past-length dims.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../../ir/graph.js';
import type { TensorReader } from '../../ir/materialize.js';
import { LLAMAC_VERSION } from '../../version.js';
import { OnnxGraph, MS_DOMAIN } from './builder.js';
import { LowerCtx, lowerNode, type LowerOptions, type OnnxLowering } from './context.js';
import { ExternalDataWriter } from './external-data.js';
import { ORT_FLAVOUR } from './flavour-ort.js';
import { STANDARD_FLAVOUR } from './flavour-standard.js';
import { makeLowering } from './lowering.js';
import { OPSETS } from './options.js';
import { DT, encodeModel, valueInfo, type ValueInfoProto } from './proto.js';

export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';

export const LOWERINGS: Record<LowerOptions['ops'], OnnxLowering> = {
  ort: makeLowering(ORT_FLAVOUR),
  standard: makeLowering(STANDARD_FLAVOUR),
};

/** Runtime tensor names (the contract genai_config.json and the runner use). */
export const IO_NAMES = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  pastKey: (i: number) => `past_key_values.${i}.key`,
  pastValue: (i: number) => `past_key_values.${i}.value`,
  logits: 'logits',
  presentKey: (i: number) => `present.${i}.key`,
  presentValue: (i: number) => `present.${i}.value`,
} as const;

export interface EmitStats {
  /** Bytes of model.onnx.data. */
  readonly dataBytes: number;
  /** Bytes of the weight initializers by name. */
  readonly weightBytes: ReadonlyMap<string, number>;
  readonly nodeCount: number;
  readonly opTypes: readonly string[];
}

/** Writes model.onnx and model.onnx.data into outDir. */
export function emitModel(graph: Graph, outDir: string, reader: TensorReader, opts: LowerOptions): EmitStats {
  const info = graph.info;
  const kvh = info.numKvHeads;
  const hd = info.headDim;
  const data = new ExternalDataWriter(join(outDir, DATA_FILE), DATA_FILE);
  try {
    const g = new OnnxGraph(data);
    const cx = new LowerCtx(g, opts, reader, { inputIds: IO_NAMES.inputIds, attentionMask: IO_NAMES.attentionMask });

    const inputs: ValueInfoProto[] = [
      valueInfo(g.claim(IO_NAMES.inputIds), DT.int64, ['batch_size', 'sequence_length']),
      valueInfo(g.claim(IO_NAMES.attentionMask), DT.int64, ['batch_size', 'total_sequence_length']),
      valueInfo(g.claim(IO_NAMES.positionIds), DT.int64, ['batch_size', 'sequence_length']),
    ];
    cx.bind(graph.inputs[0], IO_NAMES.inputIds);
    cx.bind(graph.inputs[1], IO_NAMES.positionIds);
    const outputs: ValueInfoProto[] = [valueInfo(g.claim(IO_NAMES.logits), DT.float, ['batch_size', 'sequence_length', info.vocabSize])];
    cx.bind(graph.outputs[0], IO_NAMES.logits);
    for (let i = 0; i < info.numLayers; i++) {
      for (const [j, name] of [IO_NAMES.pastKey(i), IO_NAMES.pastValue(i)].entries()) {
        inputs.push(valueInfo(g.claim(name), DT.float, ['batch_size', kvh, 'past_sequence_length', hd]));
        cx.bind(graph.inputs[2 + 2 * i + j], name);
      }
      for (const [j, name] of [IO_NAMES.presentKey(i), IO_NAMES.presentValue(i)].entries()) {
        outputs.push(valueInfo(g.claim(name), DT.float, ['batch_size', kvh, 'total_sequence_length', hd]));
        cx.bind(graph.outputs[1 + 2 * i + j], name);
      }
    }

    const table = LOWERINGS[opts.ops];
    for (const node of graph.nodes) lowerNode(table, cx, node);

    const v = OPSETS[opts.ops];
    const opsetImport = [{ domain: '', version: v.opset }];
    if (v.msOpset !== null) opsetImport.push({ domain: MS_DOMAIN, version: v.msOpset });
    const model = encodeModel({
      irVersion: v.irVersion,
      opsetImport,
      producerName: 'llamac',
      producerVersion: LLAMAC_VERSION,
      graph: { name: info.name, node: g.nodes, input: inputs, output: outputs, initializer: g.initializers },
      metadataProps: [
        { key: 'llamac.onnx_ops', value: opts.ops },
        { key: 'llamac.matrix_dtype', value: opts.matrixDtype },
      ],
    });
    writeFileSync(join(outDir, MODEL_FILE), model);
    const opTypes = [...new Set(g.nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : String(n.opType))))].sort();
    return { dataBytes: data.size, weightBytes: g.weightBytes, nodeCount: g.nodes.length, opTypes };
  } finally {
    data.close();
  }
}
