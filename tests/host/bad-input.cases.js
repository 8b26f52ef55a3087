// The bad-input catalogue: every public entry point and the bad inputs it can get, with the
// error each gets. It is both the documentation (docs/bad-input.md is generated from it:
// `node tests/host/bad-input.cases.js > docs/bad-input.md`) and a test
// (bad-input.test.js runs every row in a child process of its own, so that a crash would
// fail one row). `code` runs with: the package's names in scope, `lib` (the fixture library,
// open), `closed` (a closed one), `Complex` (StructSchema { real: f64, imag: f64 }), `buf16`
// (an ArrayBuffer of 16 bytes), `ints` (the address of a C int array).
'use strict';

// [entry point, bad input (as the docs say it), code, error class or null (no error), message pattern]
const rows = [
  // dlopen
  ['dlopen', 'no arguments', 'dlopen()', 'TypeError', /^dlopen: path must be a string, got undefined$/],
  ['dlopen', 'path not a string', 'dlopen(42, {})', 'TypeError', /path must be a string, got number 42/],
  ['dlopen', 'empty path', "dlopen('', {})", 'TypeError', /non-empty string/],
  ['dlopen', 'path with a NUL', "dlopen('a\\0b', {})", 'TypeError', /must not contain a NUL/],
  ['dlopen', 'library not found', "dlopen('/nonexistent/libx.so', {})", 'Error', /^dlopen\("\/nonexistent\/libx.so"\) failed: .*No such file/],
  ['dlopen', 'symbols null', 'dlopen(FIXTURE, null)', 'TypeError', /symbols must be an object .*got null/],
  ['dlopen', 'symbols an array', 'dlopen(FIXTURE, [1])', 'TypeError', /symbols must be an object .*got array/],
  ['dlopen', 'symbols a number', 'dlopen(FIXTURE, 5)', 'TypeError', /symbols must be an object .*got number 5/],
  ['dlopen', 'symbol missing from the library', "dlopen(FIXTURE, { no_such: {} })", 'Error', /^symbol "no_such" not found in library/],
  ['dlopen', 'definition not an object', "dlopen(FIXTURE, { noop: 5 })", 'TypeError', /symbol "noop": definition must be an object/],
  ['dlopen', 'definition null', "dlopen(FIXTURE, { noop: null })", 'TypeError', /definition must be an object .*got null/],
  ['dlopen', 'unknown key (typo)', "dlopen(FIXTURE, { noop: { return: FFIType.i32 } })", 'TypeError', /unknown key "return" in definition/],
  ['dlopen', 'args not an array', "dlopen(FIXTURE, { noop: { args: FFIType.i32 } })", 'TypeError', /args must be an array of FFIType/],
  ['dlopen', 'unknown type code', "dlopen(FIXTURE, { noop: { args: [99] } })", 'TypeError', /args\[0\] is not an FFIType or a StructSchema, got number 99/],
  ['dlopen', 'negative, fractional or NaN type code', "dlopen(FIXTURE, { noop: { returns: 1.5 } })", 'TypeError', /returns is not an FFIType or a StructSchema, got number 1.5/],
  ['dlopen', 'type as a string', "dlopen(FIXTURE, { noop: { args: ['i32'] } })", 'TypeError', /got string "i32"/],
  ['dlopen', 'void as an argument type', "dlopen(FIXTURE, { noop: { args: [FFIType.void] } })", 'TypeError', /args\[0\] is void; void is only valid in returns/],
  ['dlopen', 'a fake StructSchema', "dlopen(FIXTURE, { noop: { args: [{ nativeLayout: {} }] } })", 'TypeError', /is not an FFIType or a StructSchema, got object/],
  ['dlopen', 'nonblocking not a boolean', "dlopen(FIXTURE, { noop: { nonblocking: 1 } })", 'TypeError', /nonblocking must be a boolean, got number 1/],
  // calls
  ['bound function', 'too few arguments', 'lib.symbols.add_i32(1)', 'TypeError', /^add_i32 expects 2 arguments, got 1$/],
  ['bound function', 'too many arguments', 'lib.symbols.add_i32(1, 2, 3)', 'TypeError', /^add_i32 expects 2 arguments, got 3$/],
  ['bound function', 'string for an integer', "lib.symbols.add_i32('1', 2)", 'TypeError', /^add_i32: args\[0\] must be i32 \(an integer in -2147483648\.\.2147483647, as number or bigint\), got string "1"$/],
  ['bound function', 'undefined / null for an integer', 'lib.symbols.add_i32(undefined, null)', 'TypeError', /args\[0\] must be i32 .*got undefined$/],
  ['bound function', 'non-integral number for an integer', 'lib.symbols.add_i32(1.5, 2)', 'TypeError', /got number 1.5$/],
  ['bound function', 'NaN for an integer', 'lib.symbols.add_i32(NaN, 2)', 'TypeError', /got number NaN$/],
  ['bound function', 'Infinity for an integer', 'lib.symbols.add_i32(Infinity, 2)', 'RangeError', /got number Infinity$/],
  ['bound function', '-0 for an integer', 'lib.symbols.add_i32(-0, 2)', null, null],
  ['bound function', 'integer out of range', 'lib.symbols.id_u8(256)', 'RangeError', /^id_u8: args\[0\] must be u8 .*got number 256$/],
  ['bound function', 'negative for unsigned (number / bigint)', 'lib.symbols.id_u64(-1n)', 'RangeError', /must be u64 .*got bigint -1n$/],
  ['bound function', 'bigint beyond 64 bits', 'lib.symbols.id_u64(2n ** 64n)', 'RangeError', /must be u64/],
  ['bound function', 'number for bool', 'lib.symbols.id_bool(1)', 'TypeError', /must be bool \(a boolean\), got number 1$/],
  ['bound function', 'string for f64', "lib.symbols.add_f64('1', 2)", 'TypeError', /must be f64 \(a number\), got string "1"$/],
  ['bound function', 'bigint for f64', 'lib.symbols.add_f64(1n, 2)', 'TypeError', /must be f64 \(a number\), got bigint 1n$/],
  ['bound function', 'string with NUL for CString', "lib.symbols.str_len('a\\0b')", 'TypeError', /^str_len: args\[0\] must be CString .*NUL character inside$/],
  ['bound function', 'number for CString', 'lib.symbols.str_len(5)', 'TypeError', /must be CString \(a string or null\), got number 5$/],
  ['bound function', 'pointer as a number above 2^53', 'lib.symbols.id_ptr(2 ** 60)', 'RangeError', /addresses above 2\^53 must be passed as bigint$/],
  ['bound function', 'negative pointer', 'lib.symbols.id_ptr(-8)', 'RangeError', /must be ptr .*got -8$/],
  ['bound function', 'plain array for buffer', 'lib.symbols.sum_i32([1, 2], 2)', 'TypeError', /must be buffer .*got array$/],
  ['bound function', 'object for callback', 'lib.symbols.apply_i32({}, 1)', 'TypeError', /must be callback .*got object$/],
  ['bound function', 'call after close()', 'closed.symbols.add_i32(1, 2)', 'Error', /^add_i32: library ".*" is closed$/],
  ['bound function', 'struct argument of the wrong size', 'lib.symbols.complex_abs2(new ArrayBuffer(8))', 'TypeError', /must be a struct of 16 bytes .*got a buffer of 8 bytes$/],
  ['bound function', 'object instead of a struct buffer', 'lib.symbols.complex_abs2({ real: 1, imag: 2 })', 'TypeError', /must be a struct of 16 bytes .*got object$/],
  ['nonblocking function', 'any bad argument', "lib.symbols.slow_add('x', 1, 0)", 'rejects TypeError', /^slow_add: args\[0\] must be i32/],
  ['nonblocking function', 'call after close()', 'closed.symbols.slow_add(1, 1, 0)', 'rejects Error', /is closed$/],
  // Library
  ['Library.close', 'called twice', 'closed.close()', null, null],
  ['getSymbolPtr', 'unknown symbol', "getSymbolPtr(lib, 'no_such')", 'Error', /^getSymbolPtr: symbol "no_such" not found/],
  ['getSymbolPtr', 'name not a string', 'getSymbolPtr(lib, 5)', 'TypeError', /name must be a string, got number 5/],
  ['getSymbolPtr', 'closed library', "getSymbolPtr(closed, 'noop')", 'Error', /is closed/],
  // CFunction
  ['CFunction', 'ptr NULL / 0', 'CFunction({ ptr: 0, args: [] })', 'TypeError', /ptr must be a function address, got null or 0/],
  ['CFunction', 'ptr missing', 'CFunction({ args: [] })', 'TypeError', /CFunction: ptr must be callback .*got undefined/],
  ['CFunction', 'unknown type code', "CFunction({ ptr: getSymbolPtr(lib, 'noop'), args: [42] })", 'TypeError', /CFunction: args\[0\] is not an FFIType/],
  ['CFunction', 'not an object', 'CFunction(5)', 'TypeError', /CFunction: definition must be an object/],
  // memory helpers
  ['ptr', 'not a buffer', 'ptr([1, 2])', 'TypeError', /^ptr: argument 0 must be an ArrayBuffer, typed array or DataView, got array$/],
  ['ptr', 'byteOffset past the end', 'ptr(buf16, 17)', 'RangeError', /byteOffset 17 is past the end of a 16-byte buffer/],
  ['ptr', 'negative or fractional byteOffset', 'ptr(buf16, -1)', 'RangeError', /byteOffset must be a whole number >= 0, got -1/],
  ['read.*', 'NULL', 'read.i32(null)', 'Error', /^read.i32: cannot read through a NULL pointer$/],
  ['read.*', 'address in the first page', 'read.i64(16)', 'Error', /^read.i64: address 0x10 is not readable memory$/],
  ['read.*', 'address not a pointer', "read.f64('x')", 'TypeError', /^read.f64: argument 0 must be ptr \(an address: number, bigint or null\), got string "x"$/],
  ['read.*', 'a buffer instead of its address', 'read.i32(new Int32Array(2))', 'TypeError', /got TypedArray; ptr\(view\) gives the address of a buffer's bytes$/],
  ['read.*', 'negative byteOffset', 'read.i32(ints, -4)', 'RangeError', /byteOffset must be a whole number >= 0/],
  ['read.*', 'huge byteOffset (wraps)', 'read.u8(2n ** 64n - 1n, 8)', 'RangeError', /overflows/],
  ['read.*', 'fractional address', 'read.i32(4096.5)', 'TypeError', /^read.i32: argument 0 must be ptr .*got 4096.5$/],
  ['read.*', 'NaN address', 'read.i32(NaN)', 'TypeError', /^read.i32: argument 0 must be ptr .*got NaN$/],
  ['read.*', 'address above 2^53 as a number', 'read.i32(2 ** 53 + 2)', 'RangeError', /addresses above 2\^53 must be passed as bigint/],
  ['read.*', 'fractional byteOffset', 'read.i32(ints, 1.5)', 'TypeError', /^read.i32: byteOffset must be a whole number >= 0, got number 1.5$/],
  ['read.*', 'NaN byteOffset', 'read.i32(ints, NaN)', 'TypeError', /^read.i32: byteOffset must be a whole number >= 0, got number NaN$/],
  ['toArrayBuffer', 'byteLength missing', 'toArrayBuffer(ints, 0)', 'TypeError', /byteLength must be a whole number >= 0, got undefined/],
  ['toArrayBuffer', 'negative byteLength', 'toArrayBuffer(ints, 0, -1)', 'RangeError', /byteLength must be a whole number >= 0, got -1/],
  ['toArrayBuffer', 'byteLength over 1 GiB', 'toArrayBuffer(ints, 0, 2 ** 40)', 'RangeError', /over the limit of 1073741824 bytes/],
  ['toArrayBuffer', 'NULL', 'toArrayBuffer(null, 0, 4)', 'Error', /cannot read through a NULL pointer/],
  ['toArrayBuffer', 'a buffer instead of its address', 'toArrayBuffer(buf16, 0, 4)', 'TypeError', /^toArrayBuffer: argument 0 must be ptr .*got ArrayBuffer; ptr\(view\) gives the address/],
  ['CString', 'NULL', 'new CString(null).toString()', null, null],
  ['CString', 'address in the first page', 'new CString(8)', 'Error', /address 0x8 is not readable memory/],
  ['CString', 'byteLength over 1 GiB', 'new CString(ints, 0, 2 ** 31)', 'RangeError', /over the limit/],
  // structs
  ['StructSchema', 'no fields', 'new StructSchema({})', 'TypeError', /^StructSchema: a struct needs at least one field$/],
  ['StructSchema', 'fields not an object', 'new StructSchema(null)', 'TypeError', /fields must be an object/],
  ['StructSchema', 'void field', 'new StructSchema({ a: FFIType.void })', 'TypeError', /field "a": void is not a field type/],
  ['StructSchema', 'unknown type code', 'new StructSchema({ a: 99 })', 'TypeError', /field "a" is not an FFIType, got number 99/],
  ['StructSchema', 'field type a string', "new StructSchema({ a: 'f64' })", 'TypeError', /field "a" must be an FFIType, a StructSchema or StructSchema.array/],
  ['StructSchema', 'self-referencing field record', 'const f = {}; f.self = f; new StructSchema(f)', 'TypeError', /field "self" must be an FFIType, a StructSchema or StructSchema.array/],
  ['StructSchema', 'array of length 0 / negative / fractional', 'new StructSchema({ a: StructSchema.array(FFIType.u8, -1) })', 'RangeError', /array length must be a whole number >= 1, got -1/],
  ['StructSchema', 'struct over 16 MiB', 'new StructSchema({ a: StructSchema.array(FFIType.f64, 2 ** 22) })', 'TypeError', /would exceed 16777216 bytes/],
  ['StructSchema.create', 'value not an object', 'Complex.create(null)', 'TypeError', /^StructSchema.create: the value must be an object with the struct's fields, got null$/],
  ['StructSchema.create', 'wrong field type', "Complex.create({ real: 'x' })", 'TypeError', /field "real" must be f64 \(a number\), got string "x"/],
  ['StructSchema.create', 'array field too long', 'Arr.create({ a: [1, 2, 3, 4] })', 'RangeError', /field "a" holds 3 elements, got an array of 4/],
  ['StructSchema.create', 'JS string for a CString field', "Named.create({ name: 'text' })", 'TypeError', /field "name" must be ptr/],
  ['StructSchema.fromBuffer', 'buffer too short', 'Complex.fromBuffer(new ArrayBuffer(8))', 'RangeError', /^StructSchema.fromBuffer: a struct of 16 bytes at byteOffset 0 does not fit in a buffer of 8 bytes$/],
  ['StructSchema.fromPtr', 'NULL', 'Complex.fromPtr(null)', 'Error', /cannot read through a NULL pointer/],
  ['StructSchema.write', 'offset past the end', 'Complex.write({ real: 1 }, buf16, 8)', 'RangeError', /does not fit/],
  ['StructSchema.offsetOf', 'unknown field', "Complex.offsetOf('nope')", 'TypeError', /no field "nope"/],
  ['releasePtr', 'unknown, released or foreign address', 'releasePtr(12345); releasePtr(ptr(buf16)); releasePtr(null)', null, null],
  ['releasePtr', 'not an address', "releasePtr('x')", 'TypeError', /^releasePtr: argument 0 must be ptr/],
  // callbacks
  ['JSCallback', 'fn not a function', 'new JSCallback(5, {})', 'TypeError', /^JSCallback: argument 0 must be a function, got number 5$/],
  ['JSCallback', 'definition unknown type', 'new JSCallback(() => 0, { args: [99] })', 'TypeError', /JSCallback: args\[0\] is not an FFIType/],
  ['JSCallback', 'threadsafe not a boolean', "new JSCallback(() => 0, { threadsafe: 'yes' })", 'TypeError', /threadsafe must be a boolean/],
  ['JSCallback', 'fn returns the wrong type', "const cb = new JSCallback(() => 'x', { args: [FFIType.i32], returns: FFIType.i32 }); lib.symbols.apply_i32(cb, 1)", 'TypeError', /returned a value that must be i32 .*got string "x"$/],
  ['JSCallback', 'fn throws', "const cb = new JSCallback(() => { throw new RangeError('mine'); }, { args: [FFIType.i32], returns: FFIType.i32 }); lib.symbols.apply_i32(cb, 1)", 'RangeError', /^mine$/],
  ['JSCallback.close', 'called twice', 'const cb = new JSCallback(() => 0, {}); cb.close(); cb.close()', null, null],
  // typed calls
  ['Library.func', 'symbol missing', "lib.func('no_such_symbol', C.void)", 'Error', /^Library\.func\("no_such_symbol"\): symbol "no_such_symbol" not found in library/],
  ['Library.func', 'not a type token', "lib.func('noop', C.void, 99)", 'TypeError', /^Library\.func\("noop"\): args\[0\] is not an FFIType or a StructSchema, got number 99$/],
  ['Library.func', 'C.void as an argument', "lib.func('noop', C.void, C.void)", 'TypeError', /^Library\.func\("noop"\): args\[0\] is void/],
  ['Library.func', 'name not a string', 'lib.func(5, C.void)', 'TypeError', /^Library\.func: name must be a string, got number 5$/],
  ['Library.func', 'library closed', "closed.func('noop', C.void)", 'Error', /^Library\.func\("noop"\): library ".*" is closed$/],
  ['Library.funcAsync', 'symbol missing', "lib.funcAsync('no_such_symbol', C.void)", 'Error', /^Library\.funcAsync\("no_such_symbol"\): symbol "no_such_symbol" not found/],
  ['cfunc', 'NULL address', 'cfunc(0, C.void)', 'TypeError', /ptr must be a function address, got null or 0/],
  ['JSCallback.of', 'no function last', 'JSCallback.of(C.i32, C.i32)', 'TypeError', /^JSCallback\.of: the last argument must be the function to call$/],
  ['JSCallback.of', 'a StructSchema.value token as an argument', 'JSCallback.of(C.f64, Complex.value, () => 0)', 'TypeError', /^JSCallback\.of: args\[0\] must be a C type token or a StructSchema/],
];

const entries = rows.map(([entry, input, code, error, message]) => ({ entry, input, code, error, message }));

function markdown() {
  const lines = [
    '# Bad-input catalogue',
    '',
    'Every public entry point of ArkFFI and the bad inputs it can get, with what each gets. Every',
    'row is a test (`tests/host/bad-input.test.js` runs each in a child process of its own); this',
    'file is generated from `tests/host/bad-input.cases.js` and checked against it by the tests.',
    '"no error" rows are inputs that are accepted on purpose. Not in the table: addresses that',
    'point at unmapped memory (other than NULL and the first page) — an FFI trusts them, as C does,',
    'and reading them crashes the process.',
    '',
    '| entry point | bad input | example | error |',
    '|---|---|---|---|',
  ];
  for (const r of entries) {
    const err = r.error === null ? 'no error' : `${r.error}: \`${r.message.source.replace(/\|/g, '\\|')}\``;
    lines.push(`| ${r.entry} | ${r.input} | \`${r.code.replace(/\|/g, '\\|')}\` | ${err} |`);
  }
  return `${lines.join('\n')}\n`;
}

module.exports = { entries, markdown };

if (require.main === module) process.stdout.write(markdown());
