// @ts-check
// llamac WebGPU runtime: runs a `llamac compile --target webgpu` artifact. One ES module, the same
// file in browsers and in Node (with the `webgpu` package, or pass { device }); no bundler, no
// dependencies. It executes the artifact's schedule.json (written by the compiler from the model's
// IR) and knows nothing about the model beyond it: buffers, weights and per-program kernel steps.
// Pipelines, bind groups and uniform buffers are created once at load; a decode step is one
// queue submission (ids, RoPE tables and per-step uniforms go in with queue.writeBuffer).

/** @typedef {import('./llamac-webgpu.js').LoadOptions} LoadOptions */
/** @typedef {import('./llamac-webgpu.js').GenerateOptions} GenerateOptions */

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const UNIFORM = 0x40;
const MAP_READ = 0x01;
const SLOT = 256; // minUniformBufferOffsetAlignment (WebGPU's largest allowed default)

export class LlamacWebGpuError extends Error {}

/** @param {string} base @param {string} name */
async function readFile(base, name) {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(base) || typeof globalThis.location !== 'undefined';
  if (isUrl && !base.startsWith('file:')) {
    const root = typeof globalThis.location !== 'undefined' ? new URL(base, globalThis.location.href) : new URL(base);
    const href = new URL(name, root.href.endsWith('/') ? root : new URL(root.href + '/')).href;
    const r = await fetch(href);
    if (!r.ok) throw new LlamacWebGpuError(`llamac: ${name}: HTTP ${r.status} from ${href}`);
    return new Uint8Array(await r.arrayBuffer());
  }
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const url = await import('node:url');
  const dir = base.startsWith('file:') ? url.fileURLToPath(base) : base;
  try {
    return new Uint8Array(await fs.readFile(path.join(dir, name)));
  } catch (e) {
    throw new LlamacWebGpuError(`llamac: ${name}: cannot read it in ${dir} (${/** @type {Error} */ (e).message})`);
  }
}

/** @param {Uint8Array} bytes */
async function sha256(bytes) {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {Uint8Array} bytes */
const json = (bytes) => JSON.parse(new TextDecoder().decode(bytes));

/** @returns {Promise<{ device: GPUDevice, adapterInfo: GPUAdapterInfo | null, keep: unknown }>} */
async function openDevice() {
  /** @type {GPU | undefined} */
  let gpu = globalThis.navigator?.gpu;
  /** @type {unknown} */
  let keep = null;
  if (!gpu && typeof process !== 'undefined' && process.versions?.node) {
    try {
      const m = await import('webgpu');
      Object.assign(globalThis, m.globals);
      gpu = m.create([]);
      keep = gpu; // Dawn's instance must stay alive while the device is used
    } catch {
      throw new LlamacWebGpuError('llamac: no WebGPU in this Node: install the `webgpu` package or pass { device }');
    }
  }
  if (!gpu) throw new LlamacWebGpuError('llamac: this browser has no WebGPU (navigator.gpu is missing; Chrome/Edge 113+, or a secure context)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new LlamacWebGpuError('llamac: WebGPU is present but no adapter is available');
  /** @type {GPUFeatureName[]} */
  const features = [];
  for (const f of /** @type {GPUFeatureName[]} */ (['subgroups', 'shader-f16'])) if (adapter.features.has(f)) features.push(f);
  const L = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    },
  });
  return { device, adapterInfo: adapter.info ?? null, keep };
}

/**
 * @param {string} base artifact folder (Node) or URL (browser; relative to the page)
 * @param {LoadOptions} [opts]
 */
export async function load(base, opts = {}) {
  const manifest = json(await readFile(base, 'manifest.json'));
  if (manifest.format !== 'llamac-webgpu/1') throw new LlamacWebGpuError(`llamac: manifest.json: format ${manifest.format} is not llamac-webgpu/1`);
  /** @type {import('./llamac-webgpu.js').Schedule} */
  const sched = json(await readFile(base, 'schedule.json'));
  let device = opts.device;
  /** @type {GPUAdapterInfo | null} */
  let info = opts.adapterInfo ?? null;
  /** @type {unknown} */
  let keep = null;
  if (!device) ({ device, adapterInfo: info, keep } = await openDevice());
  else if (!info) info = /** @type {{ adapterInfo?: GPUAdapterInfo }} */ (device).adapterInfo ?? null;
  const dev = device;
  const infoText = info ? [info.vendor, info.architecture, info.device, info.description].join(' ') : '';
  const cpu = /llvmpipe|lavapipe|swiftshader/i.test(infoText);
  const wgslFeatures = opts.wgslLanguageFeatures ?? globalThis.navigator?.gpu?.wgslLanguageFeatures ?? new Set();
  /** @param {string} f */
  const has = (f) => (f === 'packed_4x8_integer_dot_product' ? wgslFeatures.has(f) : dev.features.has(/** @type {GPUFeatureName} */ (f)));
  const contextLength = opts.contextLength ?? sched.contextLength;
  const maxBinding = dev.limits.maxStorageBufferBindingSize;

  // ---- buffers: weights streamed from the shards (each checked against the manifest), the rest zeroed
  /** @type {Map<string, GPUBuffer>} */
  const buffers = new Map();
  /** @type {{ buf: GPUBuffer, offset: number, bytes: number }[]} */
  const weights = [];
  for (const b of sched.buffers) {
    const bytes = b.kvRowBytes !== undefined ? b.kvRowBytes * contextLength : /** @type {number} */ (b.bytes);
    if (bytes > maxBinding) throw new LlamacWebGpuError(`llamac: buffer ${b.name} needs ${bytes} bytes, over this device's maxStorageBufferBindingSize ${maxBinding}${b.kvRowBytes !== undefined ? ' (use a smaller contextLength)' : ''}`);
    const buf = dev.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: STORAGE | COPY_SRC | COPY_DST, label: b.name });
    buffers.set(b.name, buf);
    if (b.offset !== undefined) weights.push({ buf, offset: b.offset, bytes });
  }
  weights.sort((a, b) => a.offset - b.offset);
  const shardFiles = new Map(manifest.files.map((/** @type {{path: string, bytes: number, sha256: string}} */ f) => [f.path, f]));
  const total = sched.shards.reduce((n, s) => n + s.bytes, 0);
  let loaded = 0;
  let streamPos = 0;
  let wi = 0;
  for (const s of sched.shards) {
    const want = shardFiles.get(s.file);
    if (!want || want.sha256 !== s.sha256 || want.bytes !== s.bytes) throw new LlamacWebGpuError(`llamac: manifest.json and schedule.json disagree about ${s.file}`);
    let data;
    try {
      data = await readFile(base, s.file);
    } catch (e) {
      throw new LlamacWebGpuError(`llamac: weight shard ${s.file} is missing or unreadable: ${/** @type {Error} */ (e).message}`);
    }
    if (data.length !== s.bytes) throw new LlamacWebGpuError(`llamac: weight shard ${s.file} has ${data.length} bytes, the manifest says ${s.bytes} (truncated or replaced)`);
    if ((await sha256(data)) !== s.sha256) throw new LlamacWebGpuError(`llamac: weight shard ${s.file} is corrupt (sha256 differs from the manifest)`);
    const end = streamPos + data.length;
    // every weight buffer overlapping this shard gets its part
    while (wi < weights.length && weights[wi].offset < end) {
      const w = weights[wi];
      const from = Math.max(w.offset, streamPos);
      const to = Math.min(w.offset + w.bytes, end);
      if (to > from) dev.queue.writeBuffer(w.buf, from - w.offset, data, from - streamPos, to - from);
      if (w.offset + w.bytes <= end) wi++;
      else break;
    }
    streamPos = end;
    loaded += data.length;
    opts.onProgress?.({ loaded, total, file: s.file });
  }
  if (total === 0) opts.onProgress?.({ loaded: 0, total: 0, file: '' });

  // ---- shaders and pipelines (cached by file + overrides)
  /** @type {Map<string, GPUShaderModule>} */
  const modules = new Map();
  /** @type {Map<string, GPUComputePipeline>} */
  const pipelines = new Map();
  /** @type {Set<string>} */
  const chosen = new Set();
  /** @param {import('./llamac-webgpu.js').KernelChoice[]} choices */
  async function pipelineFor(choices) {
    const k = choices.find((c) => c.requires.every(has) && (c.cpu === undefined || c.cpu === cpu));
    if (!k) throw new LlamacWebGpuError(`llamac: no variant of ${choices[0].file} runs on this device (needs ${choices.map((c) => c.requires.join('+') || 'nothing').join(' or ')})`);
    const key = `${k.file}#${JSON.stringify(k.overrides)}`;
    chosen.add(k.file);
    let p = pipelines.get(key);
    if (!p) {
      let m = modules.get(k.file);
      if (!m) {
        m = dev.createShaderModule({ code: new TextDecoder().decode(await readFile(base, `shaders/${k.file}`)), label: k.file });
        modules.set(k.file, m);
      }
      p = await dev.createComputePipelineAsync({ layout: 'auto', compute: { module: m, entryPoint: 'main', constants: k.overrides }, label: key });
      pipelines.set(key, p);
    }
    return p;
  }

  // ---- programs: per step a pipeline, a bind group and a uniform slot; dynamic slots first
  /** @param {import('./llamac-webgpu.js').Num} n */
  const isDyn = (n) => typeof n === 'object' && 'v' in n && n.v !== 'gx';
  /**
   * @param {import('./llamac-webgpu.js').Num} n
   * @param {Record<string, number>} vars
   */
  const evalNum = (n, vars) => (typeof n === 'number' ? n : 'f' in n ? n.f : Math.ceil((vars[n.v] * (n.m ?? 1) + (n.a ?? 0)) / (n.d ?? 1)));

  /**
   * @typedef {{ kind: 'dispatch', step: import('./llamac-webgpu.js').DispatchStep, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, slot: number, words: number, dynamic: boolean }} Disp
   * @typedef {{ kind: 'copy', step: import('./llamac-webgpu.js').CopyStep }} Copy
   * @typedef {{ ops: (Disp | Copy)[], uniforms: GPUBuffer, dynamicSlots: number, dynamic: Disp[] }} Program
   */
  /** @param {import('./llamac-webgpu.js').Step[]} steps @param {string} name @returns {Promise<Program>} */
  async function buildProgram(steps, name) {
    const disp = /** @type {import('./llamac-webgpu.js').DispatchStep[]} */ (steps.filter((s) => !('copy' in s)));
    const dynamic = disp.filter((s) => s.uniform.some(isDyn) || s.grid.some(isDyn));
    const order = [...dynamic, ...disp.filter((s) => !dynamic.includes(s))];
    const slotOf = new Map(order.map((s, i) => [s, i]));
    const uniforms = dev.createBuffer({ size: Math.max(1, order.length) * SLOT, usage: UNIFORM | COPY_DST, label: `${name} uniforms` });
    /** @type {(Disp | Copy)[]} */
    const ops = [];
    for (const s of steps) {
      if ('copy' in s) {
        ops.push({ kind: 'copy', step: s });
        continue;
      }
      const pipeline = await pipelineFor(s.kernels);
      const slot = /** @type {number} */ (slotOf.get(s));
      const words = s.uniform.length;
      /** @type {GPUBindGroupEntry[]} */
      const entries = [{ binding: 0, resource: { buffer: uniforms, offset: slot * SLOT, size: Math.max(16, Math.ceil((words * 4) / 16) * 16) } }];
      s.buffers.forEach((b, i) => {
        const buf = buffers.get(b);
        if (!buf) throw new LlamacWebGpuError(`llamac: schedule.json: step ${s.label} binds unknown buffer ${b}`);
        entries.push({ binding: i + 1, resource: { buffer: buf } });
      });
      const bindGroup = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: s.label });
      ops.push({ kind: 'dispatch', step: s, pipeline, bindGroup, slot, words, dynamic: slot < dynamic.length });
    }
    const prog = { ops, uniforms, dynamicSlots: dynamic.length, dynamic: /** @type {Disp[]} */ (ops.filter((o) => o.kind === 'dispatch' && o.dynamic)) };
    // static uniforms are written once
    const stat = new Uint32Array(Math.max(1, order.length) * (SLOT / 4));
    for (const o of ops) if (o.kind === 'dispatch' && !o.dynamic) writeWords(stat, o, {});
    if (order.length > dynamic.length) dev.queue.writeBuffer(uniforms, dynamic.length * SLOT, stat, (dynamic.length * SLOT) / 4, (order.length - dynamic.length) * (SLOT / 4));
    return prog;
  }

  /** grid of a dispatch (x folded into y past 65535) @param {Disp} o @param {Record<string, number>} vars */
  function gridOf(o, vars) {
    let x = Math.max(1, evalNum(o.step.grid[0], vars));
    let y = evalNum(o.step.grid[1], vars);
    if (x > 65535) {
      const f = Math.ceil(x / 65535);
      x = Math.ceil(x / f);
      y *= f;
    }
    return [x, y, evalNum(o.step.grid[2], vars)];
  }
  /** @param {Uint32Array} into @param {Disp} o @param {Record<string, number>} vars */
  function writeWords(into, o, vars) {
    const g = gridOf(o, vars);
    const v = { ...vars, gx: g[0] };
    const f = new Float32Array(into.buffer);
    o.step.uniform.forEach((n, i) => {
      const at = o.slot * (SLOT / 4) + i;
      if (typeof n === 'object' && 'f' in n) f[at] = n.f;
      else into[at] = evalNum(n, v) >>> 0;
    });
  }

  const programs = {
    prefill: await buildProgram(sched.programs.prefill, 'prefill'),
    prefillAll: await buildProgram(sched.programs.prefillAll, 'prefillAll'),
    decode: await buildProgram(sched.programs.decode, 'decode'),
  };
  const argmaxProg = await buildProgram([sched.argmax], 'argmax');
  const V = sched.model.vocabSize;
  const ids = /** @type {GPUBuffer} */ (buffers.get(sched.io.ids));
  const logitsBuf = /** @type {GPUBuffer} */ (buffers.get(sched.io.logits));
  const argmaxBuf = /** @type {GPUBuffer} */ (buffers.get(sched.argmaxOut));
  const ropeTables = sched.rope.map((r) => ({ buf: /** @type {GPUBuffer} */ (buffers.get(r.buffer)), inv: Float32Array.from(r.invFreq) }));
  const readLogits = dev.createBuffer({ size: sched.maxTokens * V * 4, usage: MAP_READ | COPY_DST, label: 'logits read-back' });
  const readToken = dev.createBuffer({ size: 16, usage: MAP_READ | COPY_DST, label: 'token read-back' });

  let length = 0; // cache rows in use
  let position = 0; // position of the next token
  let lastRows = 0; // logits rows the last run left in the logits buffer
  let disposed = false;

  /** Write the per-call inputs, encode the program (and extras), submit once. */
  /** @param {Program} prog @param {number[]} tokenIds @param {number} startPos @param {(enc: GPUCommandEncoder) => void} [tail] */
  function submit(prog, tokenIds, startPos, tail) {
    if (disposed) throw new LlamacWebGpuError('llamac: model was disposed');
    const T = tokenIds.length;
    if (length + T > contextLength) throw new LlamacWebGpuError(`llamac: context full (${length} + ${T} tokens > contextLength ${contextLength}); call reset()`);
    for (const t of tokenIds) if (!Number.isInteger(t) || t < 0 || t >= V) throw new LlamacWebGpuError(`llamac: token id ${t} outside the vocabulary (${V})`);
    const S = length + T;
    const splits = Math.max(1, Math.min(32, Math.ceil(S / 64)));
    const vars = { T, past: length, S, splits, splitLen: Math.ceil(S / splits) };
    dev.queue.writeBuffer(ids, 0, Uint32Array.from(tokenIds));
    // RoPE: the angle float32(float32(position) * inv_freq) as transformers forms it, cos/sin rounded to f32
    for (const r of ropeTables) {
      const half = r.inv.length;
      const cs = new Float32Array(T * half * 2);
      for (let t = 0; t < T; t++) {
        const p = Math.fround(startPos + t);
        for (let i = 0; i < half; i++) {
          const a = Math.fround(p * r.inv[i]);
          cs[(t * half + i) * 2] = Math.cos(a);
          cs[(t * half + i) * 2 + 1] = Math.sin(a);
        }
      }
      dev.queue.writeBuffer(r.buf, 0, cs);
    }
    if (prog.dynamicSlots) {
      const words = new Uint32Array(prog.dynamicSlots * (SLOT / 4));
      for (const o of prog.dynamic) writeWords(words, { ...o, slot: o.slot }, vars);
      dev.queue.writeBuffer(prog.uniforms, 0, words);
    }
    const enc = dev.createCommandEncoder();
    /** @type {GPUComputePassEncoder | null} */
    let pass = null;
    for (const o of prog.ops) {
      if (o.kind === 'copy') {
        pass?.end();
        pass = null;
        const c = o.step.copy;
        enc.copyBufferToBuffer(/** @type {GPUBuffer} */ (buffers.get(c.src)), evalNum(c.srcOffset, vars), /** @type {GPUBuffer} */ (buffers.get(c.dst)), evalNum(c.dstOffset, vars), evalNum(c.bytes, vars));
        continue;
      }
      pass ??= enc.beginComputePass();
      pass.setPipeline(o.pipeline);
      pass.setBindGroup(0, o.bindGroup);
      const g = gridOf(o, vars);
      pass.dispatchWorkgroups(g[0], g[1], g[2]);
    }
    pass?.end();
    tail?.(enc);
    dev.queue.submit([enc.finish()]);
    length = S;
    position = startPos + T;
  }

  /** @param {GPUCommandEncoder} enc */
  function encodeArgmax(enc) {
    const pass = enc.beginComputePass();
    const o = /** @type {Disp} */ (argmaxProg.ops[0]);
    pass.setPipeline(o.pipeline);
    pass.setBindGroup(0, o.bindGroup);
    pass.dispatchWorkgroups(1, 1, 1);
    pass.end();
    enc.copyBufferToBuffer(argmaxBuf, 0, readToken, 0, 4);
  }
  async function readNext() {
    await readToken.mapAsync(MAP_READ);
    const t = new Uint32Array(readToken.getMappedRange().slice(0, 4))[0];
    readToken.unmap();
    return t;
  }
  /** @param {number} rows */
  async function readRows(rows) {
    const enc = dev.createCommandEncoder();
    enc.copyBufferToBuffer(logitsBuf, 0, readLogits, 0, rows * V * 4);
    dev.queue.submit([enc.finish()]);
    await readLogits.mapAsync(MAP_READ, 0, rows * V * 4);
    const out = new Float32Array(readLogits.getMappedRange(0, rows * V * 4).slice(0));
    readLogits.unmap();
    return out;
  }

  const model = {
    schedule: sched,
    manifest,
    contextLength,
    adapter: { description: infoText.trim(), cpu, features: [...dev.features].sort() },
    kernels: () => [...chosen].sort(),
    get position() {
      return position;
    },
    get length() {
      return length;
    },
    reset() {
      length = 0;
      position = 0;
      lastRows = 0;
    },
    /**
     * @param {ArrayLike<number>} tokenIds
     * @param {number} [startPos]
     * @param {{ allLogits?: boolean }} [o]
     */
    async prefill(tokenIds, startPos = position, o = {}) {
      const list = Array.from(tokenIds);
      if (!list.length) throw new LlamacWebGpuError('llamac: prefill needs at least one token');
      /** @type {Float32Array[]} */
      const rows = [];
      for (let i = 0; i < list.length; i += sched.maxTokens) {
        const chunk = list.slice(i, i + sched.maxTokens);
        const last = i + sched.maxTokens >= list.length;
        submit(o.allLogits ? programs.prefillAll : programs.prefill, chunk, startPos + i);
        lastRows = o.allLogits ? chunk.length : 1;
        if (o.allLogits) rows.push(await readRows(chunk.length));
        else if (!last) await dev.queue.onSubmittedWorkDone();
      }
      if (!o.allLogits) return undefined;
      const all = new Float32Array(list.length * V);
      let at = 0;
      for (const r of rows) {
        all.set(r, at);
        at += r.length;
      }
      return all;
    },
    /** @param {number} id */
    async decode(id) {
      submit(programs.decode, [id], position);
      lastRows = 1;
    },
    /** logits of the last token run [vocab] */
    async logits() {
      if (!lastRows) throw new LlamacWebGpuError('llamac: no logits yet (run prefill or decode first)');
      const all = await readRows(lastRows);
      return all.slice((lastRows - 1) * V);
    },
    /**
     * Greedy generation: prefill the prompt, then one submission per new token (argmax on the GPU,
     * 4 bytes read back).
     * @param {ArrayLike<number>} prompt
     * @param {GenerateOptions} [o]
     */
    async generate(prompt, o = {}) {
      const max = o.maxNewTokens ?? 32;
      const stop = new Set(o.stopTokens ?? sched.model.eosTokenIds);
      /** @type {number[]} */
      const out = [];
      const list = Array.from(prompt);
      const head = list.slice(0, -1);
      if (head.length) await model.prefill(head, o.startPos ?? position);
      let next = /** @type {number} */ (list[list.length - 1]);
      let pos = head.length ? position : (o.startPos ?? position);
      for (let i = 0; i < max; i++) {
        if (o.signal?.aborted) break;
        submit(programs.decode, [next], pos, encodeArgmax);
        lastRows = 1;
        next = await readNext();
        pos = position;
        out.push(next);
        o.onToken?.(next, out.length - 1);
        if (stop.has(next)) break;
      }
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const b of buffers.values()) b.destroy();
      for (const p of Object.values(programs)) p.uniforms.destroy();
      argmaxProg.uniforms.destroy();
      readLogits.destroy();
      readToken.destroy();
      if (!opts.device) dev.destroy();
      void keep;
    },
  };
  return model;
}
