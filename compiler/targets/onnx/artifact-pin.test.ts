// ONNX artifacts are pinned byte for byte: the sha256 of every file `llamac compile` writes for
// fixtures at f32, f16, int8, int4 and q4_0 (both op flavours, an accuracy level, int4 embeddings,
// --no-fuse), computed on main before the target seam (compiler/targets/target.ts) was introduced.
// A change here means the emitted artifact changed: say so, and why, in the commit. (manifest.json
// and model.onnx carry the llamac version, so a version bump changes them too.)

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli, tempDir } from '../../../test/helpers.js';
import { sha256File } from './artifact.js';

const PINNED: readonly { readonly name: string; readonly args: readonly string[]; readonly files: Readonly<Record<string, string>> }[] = [
  {
    name: 'tiny-f32-ort',
    args: ['llama32-tiny', '--target', 'onnx'],
    files: {
      'config.json': '0598c0dc27f82748e22a865a2de12a93e51506ef78669e5a23c94ac6cc9b4599',
      'genai_config.json': 'd64e13179cd10bcdaa6301d3a92839d47ed83b03e3c7724f72093e52c138917d',
      'generation_config.json': '303df1714249d0cd2e32f1eab3ec4e0dc093cc1cd46e7d7ee93061b95a926e91',
      'manifest.json': '48a82dc61b75b72787d83a3cc90964f4d382ca22c02be1e7651a8fd0c7485ed4',
      'model.onnx': '5296ed39953aa2edc0ba3ccd9e43af0a01fe7b4cc6550e9a9bff4a03648eed49',
      'model.onnx.data': '7b0d60e61d7d09fba04ac7f53b7e0f4dbcac4180d2a2365e320d732e35f7d7d8',
    },
  },
  {
    name: 'tiny-f32-std',
    args: ['llama32-tiny', '--target', 'onnx', '--onnx-ops', 'standard'],
    files: {
      'config.json': '0598c0dc27f82748e22a865a2de12a93e51506ef78669e5a23c94ac6cc9b4599',
      'genai_config.json': 'd64e13179cd10bcdaa6301d3a92839d47ed83b03e3c7724f72093e52c138917d',
      'generation_config.json': '303df1714249d0cd2e32f1eab3ec4e0dc093cc1cd46e7d7ee93061b95a926e91',
      'manifest.json': 'cf6a209ebe56f9300610f91edaabf629e7ff7d880eb91547f5f96e138db46322',
      'model.onnx': 'cc5804351f71fdf37d2ec86a83eb0fc0ca41cb9aabd437682d59af47c9f41161',
      'model.onnx.data': '7b0d60e61d7d09fba04ac7f53b7e0f4dbcac4180d2a2365e320d732e35f7d7d8',
    },
  },
  {
    name: 'untied-f16-ort',
    args: ['llama32-tiny-untied', '--target', 'onnx', '--quant', 'f16'],
    files: {
      'config.json': '72ba49671853bcc89898a0430cda014555de97c9acec26c68f9c88ed59e59437',
      'genai_config.json': '11fc69109f337927f1d38559bf22e6b7971209f51948a41275281a0ec6cb4495',
      'generation_config.json': 'a6ed54f896ea0de664154883033ab3f9496586161ae8c9eaea26663e38390ec8',
      'manifest.json': '05975a8cfaa5394493e6dfdbc9110547facae968f9d14df1a03b7be1ca90c0d3',
      'model.onnx': 'ad1a80c48dfd3574f7244460cc2c565132b65f691ca279ed064b27044c0ef242',
      'model.onnx.data': '03ef4bc4a1758af5da2a8e5d4f164ed6f1cdfecaa2c0d7e10e2f6fea0796d396',
    },
  },
  {
    name: 'stories-int8-ort',
    args: ['stories260K', '--target', 'onnx', '--quant', 'int8'],
    files: {
      'config.json': '215f6552f98559b873f4e3f14d09a021b911649ba9211836cd5257d4de9a24c9',
      'genai_config.json': '72543ef1aefb1b3105c99ee3b98099c25859fac58cd11c89d4e010a9dba5563e',
      'manifest.json': 'e8c84e71ba7a061d58e8306b0b6a611526904fa761d77e0adfc338e5cde0ade1',
      'model.onnx': '99f85c08d3aadff6d53fbf0a0018c7bfcc825d186f353154d58f26411cb5d8f7',
      'model.onnx.data': '74c13d761de563aabbd9d8fe1c20f25c7aeefa62163a0691763a2bdb5ebc2ea5',
      'tok512.bin': '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312',
      'tokenizer.json': '122d22ca558413499eac24a0a4373c6ac76528aa97bd1f1a6a889214df0b254b',
      'tokenizer_config.json': '2e2f8a1f4bd07f45392370b66445ff98080f5c70b508ceed2e10385ec77201aa',
    },
  },
  {
    name: 'tiny-int8-std-acc4',
    args: ['llama32-tiny', '--target', 'onnx', '--quant', 'int8', '--onnx-ops', 'standard', '--onnx-accuracy-level', '4'],
    files: {
      'config.json': '0598c0dc27f82748e22a865a2de12a93e51506ef78669e5a23c94ac6cc9b4599',
      'genai_config.json': 'd64e13179cd10bcdaa6301d3a92839d47ed83b03e3c7724f72093e52c138917d',
      'generation_config.json': '303df1714249d0cd2e32f1eab3ec4e0dc093cc1cd46e7d7ee93061b95a926e91',
      'manifest.json': 'ff1557553192d9cf21486663fd97d897c33fc9ff531253bbf5a116115324fbf6',
      'model.onnx': '79f238deb9c01610e037cc6bf17cc213dd8db7fbddb1e1ede3d976edf182df53',
      'model.onnx.data': 'd8cbc7ac89133a9093498209d2c15cd9849984f6d6933b03381656918af981e8',
    },
  },
  {
    name: 'stories-int4-rtn-ort',
    args: ['stories260K', '--target', 'onnx', '--quant', 'int4', '--quant-method', 'rtn'],
    files: {
      'config.json': '215f6552f98559b873f4e3f14d09a021b911649ba9211836cd5257d4de9a24c9',
      'genai_config.json': '72543ef1aefb1b3105c99ee3b98099c25859fac58cd11c89d4e010a9dba5563e',
      'manifest.json': '7754be9755122942e919202e77feedd802c58a745c63f87a63ecf929a5424249',
      'model.onnx': '9afa7611a83f54d316fce0d4cfae388f5a0b3df9709c20ab4a2ad29ba655f504',
      'model.onnx.data': '9e3b4df1dc967ea65afa5a8d309d57cb8e5eeceef88348ed546db2909a3c8edb',
      'tok512.bin': '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312',
      'tokenizer.json': '122d22ca558413499eac24a0a4373c6ac76528aa97bd1f1a6a889214df0b254b',
      'tokenizer_config.json': '2e2f8a1f4bd07f45392370b66445ff98080f5c70b508ceed2e10385ec77201aa',
    },
  },
  {
    name: 'untied-int4-sym-search-std-emb',
    args: ['llama32-tiny-untied', '--target', 'onnx', '--quant', 'int4', '--sym', '--quant-method', 'search', '--quant-embeddings', 'int4', '--onnx-ops', 'standard'],
    files: {
      'config.json': '72ba49671853bcc89898a0430cda014555de97c9acec26c68f9c88ed59e59437',
      'genai_config.json': '11fc69109f337927f1d38559bf22e6b7971209f51948a41275281a0ec6cb4495',
      'generation_config.json': 'a6ed54f896ea0de664154883033ab3f9496586161ae8c9eaea26663e38390ec8',
      'manifest.json': 'a44e0bd251586b7a6e725a586956248be66f60e7887e0818dc9db588845c16da',
      'model.onnx': '3812c4bd39596a2956a2cd9a881f2fd4102d58c9f745fe1ba2066052855b117f',
      'model.onnx.data': '462c7b8816efba6fe3459b315882b1f377de327580f3717708e88407ec4a1913',
    },
  },
  {
    name: 'stories-q4_0-nofuse',
    args: ['stories260K', '--target', 'onnx', '--quant', 'q4_0', '--no-fuse'],
    files: {
      'config.json': '215f6552f98559b873f4e3f14d09a021b911649ba9211836cd5257d4de9a24c9',
      'genai_config.json': '72543ef1aefb1b3105c99ee3b98099c25859fac58cd11c89d4e010a9dba5563e',
      'manifest.json': '382347162f29d9d0885787c3e361e8224360c58bc3fb4a7265c75195b7e85390',
      'model.onnx': '3d215ace947c462f0ed2ac1213a16a9196940640a71ec6f448455cc86e560df5',
      'model.onnx.data': '81bb154ba222498b8d4ef89191469b1f4aad2167ebe2d35932cc7846be9e6476',
      'tok512.bin': '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312',
      'tokenizer.json': '122d22ca558413499eac24a0a4373c6ac76528aa97bd1f1a6a889214df0b254b',
      'tokenizer_config.json': '2e2f8a1f4bd07f45392370b66445ff98080f5c70b508ceed2e10385ec77201aa',
    },
  },
];

describe('onnx artifacts are byte-identical to the pinned ones', () => {
  it.each(PINNED.map((p) => [p.name, p] as const))('%s', async (_name, p) => {
    const [model, ...flags] = p.args;
    const out = join(tempDir(), 'artifact');
    const r = await runCli('compile', fixture(model), ...flags, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const got = Object.fromEntries(readdirSync(out).sort().map((f) => [f, sha256File(join(out, f))]));
    expect(got).toEqual(p.files);
  });
});
