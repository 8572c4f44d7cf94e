#!/usr/bin/env node
// Runs exported ONNX models in ONNX Runtime (onnxruntime-node, CPU) and compares each with the
// test vectors beside it, in the ONNX model zoo's layout:
//   MODEL.onnx, test_data_set_N/input_0.pb, test_data_set_N/output_0.pb (TensorProto)
// usage: node verify.js [--tol 1e-4] [--opt all|extended|basic|disabled] [--time N] MODEL.onnx...
// --time N also times N runs of the first test set's input and prints the median.
// Prints one line per test set; exits 1 if any differs by more than the tolerance, 2 if a model
// or vector cannot be read, 3 if ONNX Runtime is not installed.
'use strict';
const fs = require('fs');
const path = require('path');

let ort;
try {
  ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
} catch (e) {
  console.error(`verify.js: onnxruntime-node is not installed in ${path.join(__dirname, 'node_modules')}` +
                ` (run make deps): ${e.message}`);
  process.exit(3);
}

// A minimal protobuf reader for onnx.TensorProto: dims (1), data_type (2), float_data (4),
// name (8), raw_data (9).
function readTensor(file) {
  const buf = fs.readFileSync(file);
  let pos = 0;
  const varint = () => {
    let result = 0, scale = 1, b;
    do {
      if (pos >= buf.length) throw new Error(`${file}: truncated varint at byte ${pos}`);
      b = buf[pos++];
      result += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    return result;
  };
  const t = { dims: [], type: 0, name: '', data: null, floats: [] };
  while (pos < buf.length) {
    const key = varint(), field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 1) t.dims.push(v);
      else if (field === 2) t.type = v;
    } else if (wire === 2) {
      const len = varint(), bytes = buf.subarray(pos, pos + len);
      if (pos + len > buf.length) throw new Error(`${file}: field ${field} runs past the end`);
      pos += len;
      if (field === 1) {  // packed dims
        const saved = pos; let p = 0;
        const sub = bytes;
        while (p < sub.length) {
          let r = 0, s = 1, b;
          do { b = sub[p++]; r += (b & 0x7f) * s; s *= 128; } while (b & 0x80);
          t.dims.push(r);
        }
        pos = saved;
      } else if (field === 4) {
        for (let i = 0; i + 4 <= bytes.length; i += 4) t.floats.push(bytes.readFloatLE(i));
      } else if (field === 8) {
        t.name = bytes.toString('utf8');
      } else if (field === 9) {
        t.data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + len));
      }
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 1) {
      pos += 8;
    } else {
      throw new Error(`${file}: unexpected wire type ${wire}`);
    }
  }
  if (t.type !== 1) throw new Error(`${file}: expected a float tensor (data_type 1), got ${t.type}`);
  if (!t.data) t.data = Float32Array.from(t.floats);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count)
    throw new Error(`${file}: ${t.data.length} values for dims [${t.dims}]`);
  return t;
}

async function main() {
  const args = process.argv.slice(2);
  let tol = 1e-4;
  let opt = 'all';
  let timeRuns = 0;
  const models = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--tol') tol = Number(args[++i]);
    else if (args[i] === '--opt') opt = args[++i];
    else if (args[i] === '--time') timeRuns = Number(args[++i]);
    else models.push(args[i]);
  }
  if (models.length === 0) {
    console.error('usage: node verify.js [--tol 1e-4] MODEL.onnx...');
    process.exit(2);
  }
  let sets = 0, failed = 0;
  for (const model of models) {
    const dir = path.dirname(model);
    let session;
    try {
      session = await ort.InferenceSession.create(model, { graphOptimizationLevel: opt });
    } catch (e) {
      console.error(`${model}: ONNX Runtime cannot load it: ${e.message}`);
      process.exit(2);
    }
    const found = fs.readdirSync(dir).filter((d) => /^test_data_set_\d+$/.test(d)).sort();
    if (found.length === 0) {
      console.error(`${model}: no test_data_set_N folder beside it`);
      process.exit(2);
    }
    for (const set of found) {
      let input, expected;
      try {
        input = readTensor(path.join(dir, set, 'input_0.pb'));
        expected = readTensor(path.join(dir, set, 'output_0.pb'));
      } catch (e) {
        console.error(e.message);
        process.exit(2);
      }
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
      const result = await session.run(feeds);
      const got = result[session.outputNames[0]];
      let diff = 0;
      const sameShape = got.dims.length === expected.dims.length &&
                        got.dims.every((d, i) => d === expected.dims[i]);
      if (sameShape) {
        for (let i = 0; i < got.data.length; ++i)
          diff = Math.max(diff, Math.abs(got.data[i] - expected.data[i]));
      }
      const ok = sameShape && diff <= tol && Number.isFinite(diff);
      if (!ok) ++failed;
      ++sets;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${model} ${set} batch ${input.dims[0]} ` +
                  (sameShape ? `max abs diff ${diff.toExponential(2)}`
                             : `shape [${got.dims}] != [${expected.dims}]`));
      if (timeRuns > 0 && set === found[0]) {
        const ms = [];
        for (let r = 0; r < timeRuns + 3; ++r) {
          const t0 = process.hrtime.bigint();
          await session.run(feeds);
          if (r >= 3) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);  // 3 warm-up runs
        }
        ms.sort((a, b) => a - b);
        console.log(`     ONNX Runtime latency at batch ${input.dims[0]}: median ` +
                    `${ms[Math.floor(ms.length / 2)].toFixed(3)} ms over ${timeRuns} runs ` +
                    `(graph optimization ${opt})`);
      }
    }
  }
  console.log(`onnxruntime-node ${ort.env.versions ? ort.env.versions.common : ''}: ` +
              `${sets - failed}/${sets} test sets within ${tol}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`verify.js: ${e.message}`);
  process.exit(2);
});
