// read_zarrita.mjs — the Zarr v3 reference reader of the conformance tests.
//
//   node read_zarrita.mjs STORE ARRAY
//
// STORE is a local directory (a Zarr store root); ARRAY the array's path
// inside it ("" or "/" for the root). Prints one JSON object on stdout:
//   {"shape": [...], "dtype": "<zarr data_type>", "data": [... C order ...]}
// Values JSON cannot hold are written as strings: "NaN", "Infinity",
// "-Infinity", and 64-bit integers (BigInt) as decimal strings. Booleans are
// true/false, strings are strings. Exit status 1 with the error on stderr
// when zarrita cannot read the array (message starts with its error class).
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

async function main() {
  const [store, path] = process.argv.slice(2);
  if (!store) {
    process.stderr.write("usage: node read_zarrita.mjs STORE [ARRAY]\n");
    process.exit(2);
  }
  const root = zarr.root(new FileSystemStore(store));
  const loc = path && path !== "/" ? root.resolve(path) : root;
  const arr = await zarr.open.v3(loc, { kind: "array" });
  const chunk = await zarr.get(arr);
  const out = [];
  const data = chunk.data;
  // Typed arrays, BoolArray, ByteStringArray and UnicodeStringArray all have
  // length and get(i) or indexing.
  const n = data.length;
  const getter = typeof data.get === "function" ? (i) => data.get(i) : (i) => data[i];
  for (let i = 0; i < n; i++) out.push(value(getter(i)));
  process.stdout.write(
    JSON.stringify({ shape: chunk.shape, dtype: arr.dtype, data: out }) + "\n",
  );
}

main().catch((e) => {
  process.stderr.write(`${e && e.name ? e.name : "Error"}: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
