// Arrays from a user's files: a sequence (rows = time steps) or targets, from a CSV text or a
// numpy .npy file, parsed here in the page (no upload: the run's request carries the numbers).
//
//   .npy  numpy's format (versions 1–3): the magic "\x93NUMPY", a header dict
//         {'descr': '<f8', 'fortran_order': False, 'shape': (T, D)}, then the data in C order.
//         Read: float16/32/64 and (for class targets) signed and unsigned integers, either byte
//         order; 1-D to 3-D. Refused in words: Fortran order, object or structured dtypes.
//   CSV   one row per time step, numbers separated by commas, semicolons, tabs or spaces; a
//         first row that is not numbers is a header and skipped; `#` starts a comment.
//
// An ArrayFile keeps the numbers flat (float64) with their shape; nested() gives the API's
// nested lists ([T][D] or [T][B][D]; a 1-D file is one column, [T][1] — or [T] class indices).
// Errors are ArrayFileError: a key of static/i18n/*.json and its values, written by the caller.
// Imports nothing, touches no DOM.

export class ArrayFileError extends Error {
  constructor(key, values = {}) {
    super(key);
    this.name = "ArrayFileError";
    this.key = key;
    this.values = values;
  }
}

const MAX_NUMBERS = 4_000_000;

export class ArrayFile {
  /** @param name the file's name; @param shape [T] | [T, D] | [T, B, D]; @param data Float64Array */
  constructor(name, shape, data, { integer = false } = {}) {
    Object.assign(this, { name, shape, data, integer });
  }

  get T() {
    return this.shape[0];
  }

  /** The last axis: D of a sequence, O of value targets (1 for a 1-D file). */
  width() {
    return this.shape.length === 1 ? 1 : this.shape.at(-1);
  }

  /** Class targets: the largest index + 1 (the outputs O they need). */
  classCount() {
    let max = -1;
    for (const v of this.data) if (v > max) max = v;
    return max + 1;
  }

  /** Whether every number is an integer ≥ 0 (class indices). */
  get classes() {
    return this.data.every((v) => Number.isInteger(v) && v >= 0);
  }

  /** The nested lists of the API: values [T][D] / [T][B][D] (a 1-D file: [T][1]), or with
   * `classes` the indices [T] / [T][B] (a 2-D file is T × B, a one-column one [T]). */
  nested({ classes = false } = {}) {
    let shape = this.shape;
    if (classes && shape.length === 2 && shape[1] === 1) shape = [shape[0]];
    if (!classes && shape.length === 1) shape = [shape[0], 1];
    const { data } = this;
    let k = 0;
    const build = (axis) => {
      const out = new Array(shape[axis]);
      for (let i = 0; i < shape[axis]; i++) out[i] = axis === shape.length - 1 ? data[k++] : build(axis + 1);
      return out;
    };
    return build(0);
  }
}

// ---------------------------------------------------------------- .npy

const DTYPES = {
  f2: { size: 2, read: (v, o, le) => half(v.getUint16(o, le)) },
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  i1: { size: 1, read: (v, o) => v.getInt8(o), integer: true },
  u1: { size: 1, read: (v, o) => v.getUint8(o), integer: true },
  b1: { size: 1, read: (v, o) => v.getUint8(o), integer: true },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le), integer: true },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le), integer: true },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le), integer: true },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le), integer: true },
  i8: { size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)), integer: true },
  u8: { size: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)), integer: true },
};

/** An IEEE half-precision number from its 16 bits. */
function half(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** The header dict's value of `key` (a Python literal: a string, True/False, or a tuple). */
function headerValue(header, key) {
  const m = header.match(new RegExp(`['"]${key}['"]\\s*:\\s*('[^']*'|"[^"]*"|True|False|\\([^)]*\\))`));
  return m ? m[1] : null;
}

/** A .npy file's bytes as an ArrayFile. */
export function parseNpy(buffer, name = "array.npy") {
  const bytes = new Uint8Array(buffer);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, k) => bytes[k] !== b)) throw new ArrayFileError("arrays.npy.magic", { name });
  const view = new DataView(buffer);
  const major = bytes[6];
  if (![1, 2, 3].includes(major)) throw new ArrayFileError("arrays.npy.version", { name, version: major });
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) throw new ArrayFileError("arrays.npy.truncated", { name });
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLength));
  const descr = headerValue(header, "descr");
  const fortran = headerValue(header, "fortran_order");
  const shapeText = headerValue(header, "shape");
  if (!descr || !fortran || !shapeText) throw new ArrayFileError("arrays.npy.header", { name });
  const [, order, code] = descr.slice(1, -1).match(/^([<>|=]?)([a-z]\d+)$/) ?? [];
  const dtype = DTYPES[code];
  if (!dtype) throw new ArrayFileError("arrays.npy.dtype", { name, dtype: descr.slice(1, -1) });
  if (fortran === "True") throw new ArrayFileError("arrays.npy.fortran", { name });
  const shape = shapeText.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new ArrayFileError("arrays.npy.header", { name });
  checkShape(shape, name);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (offset + count * dtype.size > bytes.length) throw new ArrayFileError("arrays.npy.truncated", { name });
  const little = order !== ">";
  const data = new Float64Array(count);
  for (let k = 0; k < count; k++) data[k] = dtype.read(view, offset + k * dtype.size, little);
  checkFinite(data, name);
  return new ArrayFile(name, shape, data, { integer: !!dtype.integer });
}

// ---------------------------------------------------------------- CSV

/** A CSV text (one row per time step) as a 2-D ArrayFile [T, columns]. */
export function parseCsv(text, name = "array.csv") {
  const rows = [];
  let width = null;
  let line = 0;
  for (const raw of text.split(/\r?\n/)) {
    line += 1;
    const row = raw.replace(/#.*/, "").trim();
    if (!row) continue;
    const cells = row.split(/\s*[,;\t]\s*|\s+/).filter((c) => c !== "");
    const numbers = cells.map((c) => (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$/i.test(c) ? Number(c) : NaN));
    if (numbers.some((v, k) => Number.isNaN(v) && !/nan/i.test(cells[k]))) {
      if (!rows.length && width === null) {
        width = cells.length; // a header
        continue;
      }
      const bad = cells[numbers.findIndex((v, k) => Number.isNaN(v) && !/nan/i.test(cells[k]))];
      throw new ArrayFileError("arrays.csv.not_number", { name, line, value: bad });
    }
    if (rows.length && numbers.length !== rows[0].length) {
      throw new ArrayFileError("arrays.csv.ragged", { name, line, n: numbers.length, expected: rows[0].length });
    }
    rows.push(numbers);
  }
  if (!rows.length) throw new ArrayFileError("arrays.empty", { name });
  const shape = [rows.length, rows[0].length];
  checkShape(shape, name);
  const data = Float64Array.from(rows.flat());
  checkFinite(data, name);
  return new ArrayFile(name, shape, data, { integer: data.every(Number.isInteger) });
}

function checkShape(shape, name) {
  if (shape.length < 1 || shape.length > 3) throw new ArrayFileError("arrays.dims", { name, dims: shape.length });
  if (shape.some((n) => n === 0)) throw new ArrayFileError("arrays.empty", { name });
  if (shape.reduce((a, b) => a * b, 1) > MAX_NUMBERS) {
    throw new ArrayFileError("arrays.too_large", { name, max: MAX_NUMBERS.toLocaleString("en") });
  }
}

function checkFinite(data, name) {
  const k = data.findIndex((v) => !Number.isFinite(v));
  if (k >= 0) throw new ArrayFileError("arrays.not_finite", { name, index: k });
}

/** A file the user chose (a File or Blob with a name): .npy by its magic, else CSV text. */
export async function readArrayFile(file) {
  const buffer = await file.arrayBuffer();
  const head = new Uint8Array(buffer, 0, Math.min(6, buffer.byteLength));
  if (head[0] === 0x93 && String.fromCharCode(...head.subarray(1)) === "NUMPY") return parseNpy(buffer, file.name);
  if (/\.npz$/i.test(file.name)) throw new ArrayFileError("arrays.npz", { name: file.name });
  return parseCsv(new TextDecoder().decode(buffer), file.name);
}
