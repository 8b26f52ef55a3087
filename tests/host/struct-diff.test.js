// Differential test of structs against the system C compiler: random struct shapes (every
// scalar width, nesting, arrays, pointers, awkward orders) are written as C, compiled, and
// compared with StructSchema: sizeof, _Alignof and every offsetof; then values passed by
// value into C (which hashes what it receives), echoed back by value, and built by C.
// About a third of the shapes are unions (UnionSchema): each union type has one active member
// (chosen with the shape), the one JS writes, C hashes and builds, and the round trips compare.
// Seed: ARKFFI_DIFF_SEED (default fixed), count: ARKFFI_DIFF_COUNT.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { arkffi, charIsSigned, prng } = require('./helpers');
const { dlopen, FFIType: T, StructSchema, UnionSchema, releasePtr, heldPtrCount, getSymbolPtr, read } = arkffi;

const SEED = Number(process.env.ARKFFI_DIFF_SEED || 20261124);
const COUNT = Number(process.env.ARKFFI_DIFF_COUNT || 80);
// Plain char is signed or not as the target's C ABI says (the compiler of the fixtures).
const CHAR_SIGNED = charIsSigned();

// Scalars: FFIType name, C type, kind (for hashing and value generation).
const SCALARS = [
  ['bool', 'bool', 'bool'], ['char', 'char', CHAR_SIGNED ? 's8' : 'u8'], ['i8', 'int8_t', 's8'], ['u8', 'uint8_t', 'u8'],
  ['i16', 'int16_t', 's16'], ['u16', 'uint16_t', 'u16'], ['i32', 'int32_t', 's32'], ['u32', 'uint32_t', 'u32'],
  ['i64', 'int64_t', 's64'], ['u64', 'uint64_t', 'u64'], ['isize', 'ssize_t', 'sfast'], ['usize', 'size_t', 'ufast'],
  ['f32', 'float', 'f32'], ['f64', 'double', 'f64'], ['ptr', 'void *', 'ptr'], ['CString', 'const char *', 'ptr'],
];

function genShapes(rand, count) {
  const structs = [];
  for (let k = 0; k < count; k++) {
    const nfields = 1 + Math.floor(rand() * 7);
    const fields = [];
    // A quarter of the shapes hold floats only (one float type or both), nested shapes too:
    // the floating-point register cases (HFAs, SSE eightbytes).
    const floats = rand() < 0.25 ? ['f32', 'f64', 'both'][Math.floor(rand() * 3)] : null;
    const scalars = floats ? SCALARS.filter((x) => x[0] === floats || (floats === 'both' && x[2].startsWith('f'))) : SCALARS;
    const nested = floats ? structs.filter((x) => x.floats && (x.floats === floats || floats === 'both')) : structs;
    for (let i = 0; i < nfields; i++) {
      const r = rand();
      let type;
      if (r < 0.15 && nested.length > 0) type = { struct: nested[Math.floor(rand() * nested.length)] };
      else type = { scalar: scalars[Math.floor(rand() * scalars.length)] };
      if (rand() < 0.2) type = { array: type, length: 1 + Math.floor(rand() * 5) };
      fields.push({ name: `f${i}`, type });
    }
    const depth = Math.max(0, ...fields.map((f) => depthOf(f.type)));
    if (depth > 3) { k--; continue; }
    const union = rand() < 0.35;
    const active = union ? Math.floor(rand() * nfields) : -1;
    structs.push({ name: `${union ? 'U' : 'S'}${k}`, fields, depth, union, active, floats });
  }
  return structs;
}
// The fields a value of the shape holds: a union's active member only.
function liveFields(s) { return s.union ? [s.fields[s.active]] : s.fields; }
function depthOf(t) {
  if (t.array) return depthOf(t.array);
  if (t.struct) return 1 + t.struct.depth;
  return 0;
}

function cType(t) { return t.scalar ? t.scalar[1] : t.struct.name; }
function cDecl(f) {
  if (f.type.array) return `${cType(f.type.array)} ${f.name}[${f.type.length}]`;
  return `${cType(f.type)} ${f.name}`;
}

// C code: leaves are visited in field order, arrays element by element, nested recursively.
function cLeafVisit(t, expr, out) {
  if (t.array) {
    for (let i = 0; i < t.length; i++) cLeafVisit(t.array, `${expr}[${i}]`, out);
  } else if (t.struct) {
    for (const f of liveFields(t.struct)) cLeafVisit(f.type, `${expr}.${f.name}`, out);
  } else {
    out.push({ kind: t.scalar[2], ctype: t.scalar[1], expr });
  }
}

function cSource(structs) {
  const lines = ['#include <stdbool.h>', '#include <stddef.h>', '#include <stdint.h>', '#include <string.h>', '#include <sys/types.h>',
    'static uint64_t bits_f(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }',
    'static uint64_t bits_d(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }',
    'static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 1099511628211ULL; }',
    'static uint64_t splitmix(uint64_t x) { x += 0x9e3779b97f4a7c15ULL; x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL; x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL; return x ^ (x >> 31); }'];
  const toU64 = {
    bool: (e) => `(uint64_t)(${e} ? 1 : 0)`, s8: (e) => `(uint64_t)(int64_t)${e}`, u8: (e) => `(uint64_t)${e}`,
    s16: (e) => `(uint64_t)(int64_t)${e}`, u16: (e) => `(uint64_t)${e}`, s32: (e) => `(uint64_t)(int64_t)${e}`,
    u32: (e) => `(uint64_t)${e}`, s64: (e) => `(uint64_t)${e}`, u64: (e) => `(uint64_t)${e}`, sfast: (e) => `(uint64_t)${e}`,
    ufast: (e) => `(uint64_t)${e}`, f32: (e) => `bits_f(${e})`, f64: (e) => `bits_d(${e})`, ptr: (e) => `(uint64_t)(uintptr_t)${e}`,
  };
  const fromSeed = {
    bool: (v) => `(bool)(${v} & 1)`, s8: (v) => `(int8_t)${v}`, u8: (v) => `(uint8_t)${v}`, s16: (v) => `(int16_t)${v}`,
    u16: (v) => `(uint16_t)${v}`, s32: (v) => `(int32_t)${v}`, u32: (v) => `(uint32_t)${v}`, s64: (v) => `(int64_t)${v}`,
    u64: (v) => `(uint64_t)${v}`, sfast: (v) => `(ssize_t)${v}`, ufast: (v) => `(size_t)${v}`,
    f32: (v) => `(float)(int32_t)(${v} >> 40) / 256.0f`, f64: (v) => `(double)(int64_t)(${v} >> 11) / 1024.0`,
    ptr: (v) => `(void *)(uintptr_t)(${v} >> 16)`,
  };
  for (const s of structs) {
    lines.push(`typedef ${s.union ? 'union' : 'struct'} ${s.name} { ${s.fields.map((f) => `${cDecl(f)};`).join(' ')} } ${s.name};`);
    lines.push(`const uint64_t ${s.name}_layout[] = { sizeof(${s.name}), _Alignof(${s.name}), ${s.fields.map((f) => `offsetof(${s.name}, ${f.name})`).join(', ')} };`);
    const leaves = [];
    for (const f of liveFields(s)) cLeafVisit(f.type, `s.${f.name}`, leaves);
    lines.push(`uint64_t ${s.name}_hash(${s.name} s) { uint64_t h = 14695981039346656037ULL; ${leaves.map((l) => `h = mix(h, ${toU64[l.kind](l.expr)});`).join(' ')} return h; }`);
    lines.push(`${s.name} ${s.name}_echo(${s.name} s) { return s; }`);
    const sets = leaves.map((l, j) => `s.${l.expr.slice(2)} = ${l.kind === 'ptr' && l.ctype === 'const char *' ? '(const char *)' : ''}${fromSeed[l.kind](`splitmix(seed + ${j})`)};`);
    lines.push(`${s.name} ${s.name}_make(uint64_t seed) { ${s.name} s; memset(&s, 0, sizeof s); ${sets.join(' ')} return s; }`);
  }
  return `${lines.join('\n')}\n`;
}

// The same on the JS side.
const M64 = (1n << 64n) - 1n;
function splitmix(x) {
  x = (x + 0x9e3779b97f4a7c15n) & M64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
  return x ^ (x >> 31n);
}
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function signed(v, bits) { return BigInt.asIntN(bits, BigInt(v)); }

function leafToU64(kind, v) {
  switch (kind) {
    case 'bool': return v ? 1n : 0n;
    case 'f32': f32[0] = v; return BigInt(u32[0]);
    case 'f64': f64[0] = v; return u64[0];
    case 'ptr': return v === null ? 0n : BigInt(v);
    default: return BigInt.asUintN(64, BigInt(v));
  }
}
function leafFromSeed(kind, x) {
  const narrow = { s8: [8, true], u8: [8, false], s16: [16, true], u16: [16, false], s32: [32, true], u32: [32, false] };
  if (narrow[kind]) {
    const [bits, isSigned] = narrow[kind];
    return Number(isSigned ? BigInt.asIntN(bits, x) : BigInt.asUintN(bits, x));
  }
  switch (kind) {
    case 'bool': return (x & 1n) === 1n;
    case 's64': return BigInt.asIntN(64, x);
    case 'u64': return x;
    case 'sfast': { const v = BigInt.asIntN(64, x); return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v; }
    case 'ufast': return x <= 2n ** 53n ? Number(x) : x;
    case 'f32': return Number(signed(x >> 40n, 32)) / 256;
    case 'f64': return Number(x >> 11n) / 1024;
    case 'ptr': { const p = x >> 16n; return p === 0n ? null : p <= 2n ** 53n ? Number(p) : p; }
    default: throw new Error(kind);
  }
}
function randomLeaf(kind, rand) {
  const r64 = () => (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  const ranges = { s8: [-128, 127], u8: [0, 255], s16: [-32768, 32767], u16: [0, 65535], s32: [-(2 ** 31), 2 ** 31 - 1], u32: [0, 2 ** 32 - 1] };
  if (ranges[kind]) { const [lo, hi] = ranges[kind]; return lo + Math.floor(rand() * (hi - lo + 1)); }
  switch (kind) {
    case 'bool': return rand() < 0.5;
    case 's64': return BigInt.asIntN(64, r64());
    case 'u64': return r64();
    case 'sfast': return leafFromSeed('sfast', r64());
    case 'ufast': return leafFromSeed('ufast', r64());
    case 'f32': return Math.fround((rand() - 0.5) * 1e6);
    case 'f64': return (rand() - 0.5) * 1e300;
    case 'ptr': return rand() < 0.1 ? null : leafFromSeed('ptr', r64());
    default: throw new Error(kind);
  }
}

// JS values and leaves by shape.
function makeValue(t, leafOf) {
  if (t.array) return Array.from({ length: t.length }, () => makeValue(t.array, leafOf));
  if (t.struct) return Object.fromEntries(liveFields(t.struct).map((f) => [f.name, makeValue(f.type, leafOf)]));
  return leafOf(t.scalar[2]);
}
// What a read value holds of the live fields (a union is read with every member's view).
function project(t, v) {
  if (t.array) return v.map((e) => project(t.array, e));
  if (t.struct) return Object.fromEntries(liveFields(t.struct).map((f) => [f.name, project(f.type, v[f.name])]));
  return v;
}
function leaves(t, v, out) {
  if (t.array) v.forEach((e) => leaves(t.array, e, out));
  else if (t.struct) liveFields(t.struct).forEach((f) => leaves(f.type, v[f.name], out));
  else out.push([t.scalar[2], v]);
  return out;
}
function jsHash(list) {
  let h = 14695981039346656037n;
  for (const [kind, v] of list) h = ((h ^ leafToU64(kind, v)) * 1099511628211n) & M64;
  return h;
}
function schemaOf(t, schemas) {
  if (t.array) return StructSchema.array(schemaOf(t.array, schemas), t.length);
  if (t.struct) return schemas.get(t.struct);
  return T[t.scalar[0]];
}

test(`random structs agree with the C compiler (seed ${SEED}, ${COUNT} shapes)`, () => {
  const rand = prng(SEED);
  const structs = genShapes(rand, COUNT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arkffi-diff-'));
  const src = path.join(dir, 'diff.c');
  const lib = path.join(dir, 'libdiff.so');
  fs.writeFileSync(src, cSource(structs));
  execFileSync(process.env.CC || 'cc', ['-std=c11', '-O1', '-fPIC', '-shared', '-o', lib, src]);

  const schemas = new Map();
  const defs = {};
  for (const s of structs) {
    const Schema = s.union ? UnionSchema : StructSchema;
    const schema = new Schema(Object.fromEntries(s.fields.map((f) => [f.name, schemaOf(f.type, schemas)])));
    schemas.set(s, schema);
    defs[`${s.name}_hash`] = { args: [schema], returns: T.u64 };
    defs[`${s.name}_echo`] = { args: [schema], returns: schema };
    defs[`${s.name}_make`] = { args: [T.u64], returns: schema };
  }
  const handle = dlopen(lib, defs);
  const held = heldPtrCount();
  let checkedFields = 0;
  for (const s of structs) {
    const schema = schemas.get(s);
    const t = { struct: s };
    const layout = getSymbolPtr(handle, `${s.name}_layout`);
    const c = (i) => Number(read.u64(layout, i * 8));
    const where = `${s.union ? 'union' : 'struct'} ${s.name} { ${s.fields.map(cDecl).join('; ')} }${s.union ? ` (active ${s.fields[s.active].name})` : ''}`;
    assert.equal(schema.size, c(0), `sizeof ${where}`);
    assert.equal(schema.alignment, c(1), `_Alignof ${where}`);
    s.fields.forEach((f, i) => assert.equal(schema.offsetOf(f.name), c(2 + i), `offsetof ${f.name} in ${where}`));
    checkedFields += s.fields.length;

    for (let round = 0; round < 3; round++) {
      const value = makeValue(t, (kind) => randomLeaf(kind, rand));
      const buf = schema.create(value);
      assert.equal(handle.symbols[`${s.name}_hash`](buf), jsHash(leaves(t, value, [])), `C sees the fields of ${where}`);
      const echoed = handle.symbols[`${s.name}_echo`](buf);
      assert.deepEqual(project(t, schema.fromPtr(echoed)), value, `by-value round trip of ${where}`);
      releasePtr(echoed);
    }
    const seed = BigInt(Math.floor(rand() * 2 ** 32));
    const made = handle.symbols[`${s.name}_make`](seed);
    let j = 0;
    const expected = makeValue(t, (kind) => leafFromSeed(kind, splitmix((seed + BigInt(j++)) & M64)));
    assert.deepEqual(project(t, schema.fromPtr(made)), expected, `C-built ${where}`);
    releasePtr(made);
  }
  assert.equal(heldPtrCount(), held);
  assert.ok(checkedFields > COUNT * 2);
  const unions = structs.filter((s) => s.union);
  assert.ok(unions.length > COUNT / 5, `${unions.length} unions`);
  assert.ok(unions.some((s) => s.depth > 0) && structs.some((s) => !s.union && s.fields.some((f) => f.type.struct && f.type.struct.union)),
    'unions holding structs and structs holding unions');
  assert.ok(unions.some((s) => s.floats === 'f32') && unions.some((s) => s.floats === 'f64') && unions.some((s) => s.floats === 'both'),
    'unions of floats only');
  handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
