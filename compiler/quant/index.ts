// Weight quantization library: pure functions over row-major Float32Array W [N, K] producing the
// plain QuantizedMatrix layout of compiler/ir/quantized.ts.

export { quantizeInt8, quantizeInt8Rows } from './int8.js';
export type { Int8Options } from './int8.js';
export { quantizeInt4, quantizeInt4Rows, resolveInt4, chooseGroupParams, storedScale, quantLevel, dequantizeFloatZero, dequantizeAny } from './int4.js';
export type { Int4Options, Int4Config, Int4Method, FloatZeroMatrix } from './int4.js';
export { quantizeQ4_0, QK4_0 } from './q4_0.js';
export { quantizeGptq, prepareGptq, HessianAccumulator } from './gptq.js';
export type { GptqOptions, GptqHessian, GptqHessianOptions } from './gptq.js';
export { awqScales, scaleColumns, scaleHessian } from './awq.js';
export type { AwqOptions, AwqResult } from './awq.js';
export { QuantPool, quantizeMatrices } from './pool.js';
export type { QuantJob, JobRows, PoolOptions } from './pool.js';
