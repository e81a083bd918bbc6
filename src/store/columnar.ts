// Columnar bulk transfer between typed arrays and DuckDB, chunk by chunk through DuckDB's vectors
// (memcpy-speed: no per-value JS objects). Used for features and bars, where millions of rows move.
import duckdb from '@duckdb/node-bindings';
import { type DuckDBConnection, DuckDBDataChunk, DuckDBFloatType, DuckDBDoubleType, DuckDBIntegerType, DuckDBBigIntType, DuckDBTimestampType, DuckDBBooleanType, DuckDBVarCharType, DuckDBListType, type DuckDBType } from '@duckdb/node-api';
import type { Store, Params } from './db.js';

export type ColumnKind = 'f64' | 'f32' | 'i32' | 'i64' | 'ts_ms' | 'bool' | 'varchar_const' | 'varchar' | 'f32_list';

const VECTOR_SIZE = duckdb.vector_size();

function duckType(kind: ColumnKind): DuckDBType {
  switch (kind) {
    case 'f64':
      return DuckDBDoubleType.instance;
    case 'f32':
      return DuckDBFloatType.instance;
    case 'i32':
      return DuckDBIntegerType.instance;
    case 'i64':
      return DuckDBBigIntType.instance;
    case 'ts_ms':
      return DuckDBTimestampType.instance;
    case 'bool':
      return DuckDBBooleanType.instance;
    case 'varchar_const':
    case 'varchar':
      return DuckDBVarCharType.instance;
    case 'f32_list':
      return new DuckDBListType(DuckDBFloatType.instance);
  }
}

export type ColumnData =
  | { kind: 'f64'; data: Float64Array }
  /** rows whose `valid` byte is 0 are stored as NULL */
  | { kind: 'f32'; data: Float32Array; valid?: Uint8Array }
  | { kind: 'i32'; data: Int32Array }
  | { kind: 'i64'; data: BigInt64Array }
  | { kind: 'ts_ms'; data: Float64Array }
  | { kind: 'bool'; data: Uint8Array }
  | { kind: 'varchar_const'; value: string }
  | { kind: 'varchar'; data: readonly string[] }
  /** width values per row, row-major; rows whose `valid` byte is 0 are stored as NULL */
  | { kind: 'f32_list'; data: Float32Array; width: number; valid?: Uint8Array };

/** Copies `bytes` bytes of a typed array (from element `start`) into a vector (vector_get_data is a copy, so writes go through copy_data_to_vector). */
function copyInto(vector: duckdb.Vector, src: ArrayBufferView, startByte: number, bytes: number, targetByte = 0): void {
  duckdb.copy_data_to_vector(vector, targetByte, src.buffer as ArrayBuffer, src.byteOffset + startByte, bytes);
}

/** Marks rows whose `valid` byte is 0 as NULL (only touches the mask when some row is invalid). */
function setValidity(vector: duckdb.Vector, valid: Uint8Array, start: number, rows: number, mask: Uint8Array): void {
  let all = true;
  for (let r = 0; r < rows; r++) if (!valid[start + r]) { all = false; break; }
  if (all) return;
  mask.fill(0);
  for (let r = 0; r < rows; r++) if (valid[start + r]) mask[r >> 3] |= 1 << (r & 7);
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer as ArrayBuffer, 0, Math.ceil(rows / 8));
}

/**
 * Appends `n` rows (columns in table order) to `table` through an appender, VECTOR_SIZE rows per chunk.
 * The caller owns the transaction.
 */
export async function appendColumns(store: Store, table: string, columns: ColumnData[], n: number): Promise<void> {
  await store.withConnection((conn) => appendOn(conn, table, columns, n));
}

async function appendOn(conn: DuckDBConnection, table: string, columns: ColumnData[], n: number): Promise<void> {
  const appender = await conn.createAppender(table);
  const chunk = DuckDBDataChunk.create(columns.map((c) => duckType(c.kind)));
  const raw = chunk.chunk;
  const vectors = columns.map((_, i) => duckdb.data_chunk_get_vector(raw, i));
  const utf8 = columns.map((c) => (c.kind === 'varchar_const' ? new TextEncoder().encode(c.value) : null));
  const tsScratch = new BigInt64Array(VECTOR_SIZE);
  const entries = new BigUint64Array(VECTOR_SIZE * 2);
  const mask = new Uint8Array(VECTOR_SIZE / 8);
  try {
    for (let start = 0; start < n; start += VECTOR_SIZE) {
      const rows = Math.min(VECTOR_SIZE, n - start);
      duckdb.data_chunk_reset(raw);
      for (let ci = 0; ci < columns.length; ci++) {
        const col = columns[ci];
        const vec = vectors[ci];
        switch (col.kind) {
          case 'f64':
          case 'i64':
            copyInto(vec, col.data, start * 8, rows * 8);
            break;
          case 'f32':
          case 'i32':
            copyInto(vec, col.data, start * 4, rows * 4);
            if (col.kind === 'f32' && col.valid) setValidity(vec, col.valid, start, rows, mask);
            break;
          case 'bool':
            copyInto(vec, col.data, start, rows);
            break;
          case 'ts_ms': {
            for (let r = 0; r < rows; r++) tsScratch[r] = BigInt(Math.round(col.data[start + r])) * 1000n;
            copyInto(vec, tsScratch, 0, rows * 8);
            break;
          }
          case 'varchar_const': {
            const bytes = utf8[ci]!;
            for (let r = 0; r < rows; r++) duckdb.vector_assign_string_element_len(vec, r, bytes);
            break;
          }
          case 'varchar':
            for (let r = 0; r < rows; r++) duckdb.vector_assign_string_element(vec, r, col.data[start + r]);
            break;
          case 'f32_list': {
            const w = col.width;
            const child = () => duckdb.list_vector_get_child(vec);
            if (!col.valid) {
              duckdb.list_vector_reserve(vec, rows * w);
              duckdb.list_vector_set_size(vec, rows * w);
              copyInto(child(), col.data, start * w * 4, rows * w * 4);
              for (let r = 0; r < rows; r++) {
                entries[2 * r] = BigInt(r * w);
                entries[2 * r + 1] = BigInt(w);
              }
              copyInto(vec, entries, 0, rows * 16);
              break;
            }
            let k = 0;
            mask.fill(0);
            for (let r = 0; r < rows; r++) if (col.valid[start + r]) k++;
            duckdb.list_vector_reserve(vec, k * w);
            duckdb.list_vector_set_size(vec, k * w);
            const cv = child();
            k = 0;
            let run = -1; // copy runs of consecutive valid rows in one call
            const flush = (endRow: number) => {
              if (run < 0) return;
              const len = endRow - run;
              copyInto(cv, col.data, (start + run) * w * 4, len * w * 4, (k - len) * w * 4);
              run = -1;
            };
            for (let r = 0; r < rows; r++) {
              if (col.valid[start + r]) {
                if (run < 0) run = r;
                entries[2 * r] = BigInt(k * w);
                entries[2 * r + 1] = BigInt(w);
                mask[r >> 3] |= 1 << (r & 7);
                k++;
              } else {
                flush(r);
                entries[2 * r] = 0n;
                entries[2 * r + 1] = 0n;
              }
            }
            flush(rows);
            copyInto(vec, entries, 0, rows * 16);
            duckdb.vector_ensure_validity_writable(vec);
            duckdb.copy_data_to_vector_validity(vec, 0, mask.buffer as ArrayBuffer, 0, Math.ceil(rows / 8));
            break;
          }
        }
      }
      chunk.rowCount = rows;
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

export interface ReadColumnSpec {
  name: string;
  kind: 'f64' | 'f32' | 'i32' | 'ts_ms' | 'bool' | 'f32_list';
  /** f32_list: values per row; NULL lists read as zeros (with the row's `valid` byte 0). NULL f32
   * scalars read as NaN; other NULL scalars read as 0. */
  width?: number;
}

export interface ReadResult {
  n: number;
  cols: Record<string, Float64Array | Float32Array | Int32Array | Uint8Array>;
  /** For f32_list columns: 1 when the row's list was present. */
  valid: Record<string, Uint8Array>;
}

/**
 * Runs `sql` and copies its columns (in select order, matching `spec`) into typed arrays. NULL scalars
 * read as 0 (select coalesce(...) when that matters). `expectedRows` pre-sizes the arrays.
 */
export async function readColumns(store: Store, sql: string, spec: ReadColumnSpec[], params?: Params): Promise<ReadResult> {
  const chunks: DuckDBDataChunk[] = [];
  let n = 0;
  // The result streams: no other statement may run on the connection until it is read out.
  await store.withConnection(async (conn) => {
    const result = await conn.run(sql, params);
    for (;;) {
      const c = await result.fetchChunk();
      if (!c || c.rowCount === 0) break;
      chunks.push(c);
      n += c.rowCount;
    }
  });
  const cols: ReadResult['cols'] = {};
  const valid: ReadResult['valid'] = {};
  for (const s of spec) {
    if (s.kind === 'f32_list') {
      cols[s.name] = new Float32Array(n * (s.width ?? 0));
      valid[s.name] = new Uint8Array(n);
    } else cols[s.name] = s.kind === 'f64' || s.kind === 'ts_ms' ? new Float64Array(n) : s.kind === 'f32' ? new Float32Array(n) : s.kind === 'i32' ? new Int32Array(n) : new Uint8Array(n);
  }
  let at = 0;
  for (const c of chunks) {
    const rows = c.rowCount;
    spec.forEach((s, ci) => {
      const vec = duckdb.data_chunk_get_vector(c.chunk, ci);
      const dest = cols[s.name];
      const validity = duckdb.vector_get_validity(vec, Math.ceil(rows / 64) * 8);
      const isValid = (r: number) => !validity || validity.length === 0 || (validity[r >> 3] & (1 << (r & 7))) !== 0;
      switch (s.kind) {
        case 'f64': {
          const u8 = duckdb.vector_get_data(vec, rows * 8);
          (dest as Float64Array).set(new Float64Array(u8.buffer.slice(u8.byteOffset, u8.byteOffset + rows * 8)), at);
          break;
        }
        case 'f32': {
          const u8 = duckdb.vector_get_data(vec, rows * 4);
          const d = dest as Float32Array;
          d.set(new Float32Array(u8.buffer.slice(u8.byteOffset, u8.byteOffset + rows * 4)), at);
          if (validity && validity.length) for (let r = 0; r < rows; r++) if (!isValid(r)) d[at + r] = NaN;
          break;
        }
        case 'i32': {
          const u8 = duckdb.vector_get_data(vec, rows * 4);
          (dest as Int32Array).set(new Int32Array(u8.buffer.slice(u8.byteOffset, u8.byteOffset + rows * 4)), at);
          break;
        }
        case 'ts_ms': {
          const u8 = duckdb.vector_get_data(vec, rows * 8);
          const src = new BigInt64Array(u8.buffer.slice(u8.byteOffset, u8.byteOffset + rows * 8));
          const d = dest as Float64Array;
          for (let r = 0; r < rows; r++) d[at + r] = Number(src[r] / 1000n);
          break;
        }
        case 'bool': {
          const u8 = duckdb.vector_get_data(vec, rows);
          (dest as Uint8Array).set(u8.subarray(0, rows), at);
          break;
        }
        case 'f32_list': {
          const w = s.width ?? 0;
          const eu8 = duckdb.vector_get_data(vec, rows * 16);
          const entries = new BigUint64Array(eu8.buffer.slice(eu8.byteOffset, eu8.byteOffset + rows * 16));
          const childN = duckdb.list_vector_get_size(vec);
          const child = duckdb.list_vector_get_child(vec);
          const cu8 = duckdb.vector_get_data(child, childN * 4);
          const childData = new Float32Array(cu8.buffer.slice(cu8.byteOffset, cu8.byteOffset + childN * 4));
          const d = dest as Float32Array;
          const v = valid[s.name];
          for (let r = 0; r < rows; r++) {
            if (!isValid(r)) continue;
            const off = Number(entries[2 * r]);
            const len = Number(entries[2 * r + 1]);
            if (len !== w) throw new Error(`column ${s.name}: row has ${len} values, expected ${w}`);
            d.set(childData.subarray(off, off + len), (at + r) * w);
            v[at + r] = 1;
          }
          break;
        }
      }
    });
    at += rows;
  }
  return { n, cols, valid };
}
