// Thin typed helpers over onnx-proto (protobufjs): data types, attributes, tensors, value infos.
// The schema in onnx-proto stops at IR version 8, but newer numbers (IR 10/11, INT4/UINT4) encode
// fine as plain integers.

import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ModelProto = onnxProto.onnx.IModelProto;

/** TensorProto.DataType numbers (UINT4/INT4 are newer than onnx-proto's enum). */
export const DT = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  uint4: 21,
  int4: 22,
} as const;
export type DataType = (typeof DT)[keyof typeof DT];

/** Bytes per element, with 4-bit types as 0.5. */
export function elementBytes(dt: DataType): number {
  switch (dt) {
    case DT.float:
    case DT.int32:
      return 4;
    case DT.int64:
      return 8;
    case DT.float16:
      return 2;
    case DT.uint8:
    case DT.int8:
    case DT.bool:
      return 1;
    case DT.uint4:
    case DT.int4:
      return 0.5;
  }
}

export type AttrValue = number | string | readonly number[] | { readonly float: number } | { readonly floats: readonly number[] };

const A = onnx.AttributeProto.AttributeType;

/** Integers become INT attributes; wrap floats as { float } so 1.0 stays a float. */
export function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') return { name, type: A.INT, i: v };
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: [...(v as readonly number[])] };
  if ('float' in v) return { name, type: A.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: A.FLOATS, floats: [...v.floats] };
  throw new Error(`internal: bad attribute ${name}`);
}

export type Dim = number | string;

export function valueInfo(name: string, dt: DataType, shape: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: dt, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** A small tensor stored inside model.onnx (shape vectors, scalars). */
export function inlineTensor(name: string, dt: DataType, dims: readonly number[], bytes: Uint8Array): TensorProto {
  return { name, dataType: dt, dims: [...dims], rawData: bytes };
}

/** A tensor whose bytes live in the external data file. */
export function externalTensor(name: string, dt: DataType, dims: readonly number[], location: string, offset: number, length: number): TensorProto {
  return {
    name,
    dataType: dt,
    dims: [...dims],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
}
