// How close an ONNX artifact must stay to the reference interpreter on the same graph.

/**
 * Max |logit difference| ONNX vs interpreter, relative to the largest |logit| of the case. Both
 * dequantize to identical float32 weights; what differs is float32 summation order (MLAS blocks,
 * ORT's softmax), measured at <= 2e-6 relative; 1e-5 leaves room, while one row of one matrix
 * with its nibbles swapped moves logits by 1.2e-1 relative (quantized.test.ts checks it fails).
 */
export const QUANT_REL_TOL = 1e-5;

/** |perplexity(onnx) - perplexity(interpreter)| on the same quantized graph (the bound). */
export const PPL_TOL = 1e-3;
