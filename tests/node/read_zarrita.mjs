// read_zarrita.mjs — the Zarr v3 reference reader of the conformance tests.
//
//   node read_zarrita.mjs STORE ARRAY [ARRAY...]
//
// STORE is a local directory (a Zarr store root); ARRAY an array's path
// inside it ("" or "/" for the root). Prints one JSON object per ARRAY, one
// per line, on stdout:
//   {"path": ARRAY, "shape": [...], "dtype": "<zarr data_type>",
//    "data": [... C order ...]}
// or {"path": ARRAY, "error": "<zarrita's error class>: <message>"}.
// Values JSON cannot hold are written as strings: "NaN", "Infinity",
// "-Infinity", and 64-bit integers (BigInt) as decimal strings. Booleans are
// true/false, strings are strings. Exit status 1 when an array could not be
// read (its line says why, and so does stderr).
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

function value(v) {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "Infinity";
    if (v === -Infinity) return "-Infinity";
  }
  return v;
}

async function read(root, path) {
  const loc = path && path !== "/" ? root.resolve(path) : root;
  const arr = await zarr.open.v3(loc, { kind: "array" });
  const chunk = await zarr.get(arr);
  const data = chunk.data;
  // Typed arrays index directly; BoolArray and the string arrays have get().
  const getter = typeof data.get === "function" ? (i) => data.get(i) : (i) => data[i];
  // zarrita returns the data with strides (F order after a transpose
  // codec, for one); walk them to give C order.
  const shape = chunk.shape, stride = chunk.stride;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Array(n);
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += idx[d] * stride[d];
    out[i] = value(getter(off));
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { path, shape, dtype: arr.dtype, data: out };
}

async function main() {
  const [store, ...paths] = process.argv.slice(2);
  if (!store) {
    process.stderr.write("usage: node read_zarrita.mjs STORE ARRAY [ARRAY...]\n");
    process.exit(2);
  }
  const root = zarr.root(new FileSystemStore(store));
  let failed = false;
  for (const path of paths.length ? paths : [""]) {
    let line;
    try {
      line = await read(root, path);
    } catch (e) {
      const msg = `${e && e.name ? e.name : "Error"}: ${e && e.message ? e.message : e}`;
      process.stderr.write(`${path}: ${msg}\n`);
      line = { path, error: msg };
      failed = true;
    }
    process.stdout.write(JSON.stringify(line) + "\n");
  }
  process.exit(failed ? 1 : 0);
}

main();
