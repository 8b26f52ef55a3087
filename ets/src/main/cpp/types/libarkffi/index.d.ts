// Typings of the native module libarkffi.so. Only ets/src/main/ets/native.ets imports it;
// applications import the `arkffi` package.

export type NativePointer = number | bigint;
export type NativeBuffer = ArrayBuffer | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array |
  Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array | DataView;
export type NativeValue = number | bigint | boolean | string | null | undefined | NativeBuffer;
export type NativeFunction = (...args: NativeValue[]) => NativeValue;

export interface NativeLibrary {
  readonly path: string;
  readonly symbols: Record<string, NativeFunction>;
  readonly close: () => void;
  readonly symbolPtr: (name: string) => NativePointer;
  /** Binds one more symbol with a definition `{ args?, returns?, nonblocking? }`. */
  bind(name: string, definition: object): NativeFunction;
}

/** Opens a library and binds every definition `{ args?: number[], returns?: number }`. */
export const dlopen: (path: string, symbols: object) => NativeLibrary;
/** Binds a raw function pointer `{ ptr, args?, returns? }`. */
export const cfunction: (definition: object) => NativeFunction;
/** The address of a buffer's bytes plus an offset; null for an empty buffer. */
export const ptr: (view: NativeBuffer, byteOffset?: number) => NativePointer | null;
/** Reads one value of the reader's type at `ptr + byteOffset`. */
export type NativeReader = (ptr: NativePointer | null, byteOffset?: number) => NativeValue;
/** A reader of values of type `type` (an FFIType code; not void or CString). */
export const reader: (type: number) => NativeReader;
/** Writes one value of the writer's type at `ptr + byteOffset`. */
export type NativeWriter = (ptr: NativePointer | null, byteOffset: number | undefined, value: NativeValue) => void;
/** A writer of values of type `type` (an FFIType code; not void or CString). */
export const writer: (type: number) => NativeWriter;
/** An external ArrayBuffer over `byteLength` bytes of C memory at `ptr + byteOffset` (no copy). */
export const view: (ptr: NativePointer | null, byteOffset: number | undefined, byteLength: number) => ArrayBuffer;
/** Copies `byteLength` bytes at `ptr + byteOffset` into a new ArrayBuffer. */
export const toArrayBuffer: (ptr: NativePointer | null, byteOffset: number | undefined, byteLength: number) => ArrayBuffer;
/** Reads the C string at `ptr + byteOffset` (NUL-terminated, or exactly byteLength bytes). */
export const readCString: (ptr: NativePointer | null, byteOffset?: number, byteLength?: number) => string;
/** The canonical name of an FFIType code. */
export const typeName: (type: number) => string;
/** C's errno right after the most recent synchronous call of this thread returned. */
export const errno: () => number;

/** An opaque native struct layout (the handle inside a StructSchema). */
export interface NativeStruct {}
export interface NativeStructInfo {
  readonly handle: NativeStruct;
  readonly size: number;
  readonly alignment: number;
  readonly offsets: Record<string, number>;
}
/** Lays out `{ name: FFIType | StructSchema | { element, length } }` by C rules (as a union,
 * every member at offset 0, when `union` is true). */
export const structLayout: (fields: object, union?: boolean) => NativeStructInfo;
/** A new zeroed ArrayBuffer holding `value` as the struct. */
export const structCreate: (layout: NativeStruct, value: object) => ArrayBuffer;
/** Writes `value` at `target + byteOffset` (a buffer, bounds-checked, or an address). */
export const structWrite: (layout: NativeStruct, value: object, target: NativeBuffer | NativePointer, byteOffset?: number) => void;
/** Reads the struct at `address + byteOffset` (C memory; NULL and the first page refused). */
export const structRead: (layout: NativeStruct, address: NativePointer | null, byteOffset?: number) => object;
/** Reads the struct at `byteOffset` of a buffer (bounds-checked). */
export const structReadBuffer: (layout: NativeStruct, buffer: NativeBuffer, byteOffset?: number) => object;
/** offsetof() of a field path such as 'inner.x' or 'items[2]'. */
export const structOffsetOf: (layout: NativeStruct, path: string) => number;
/** Lets a held struct result go; unknown addresses are ignored. */
export const releasePtr: (address: NativePointer | null) => void;
/** How many struct results are held. */
export const heldPtrCount: () => number;

/** A JSCallback handle: the callback's key, a whole number (opaque to ArkTS; a number, so
 * that no finalizer is needed to free it). */
export type NativeCallback = number;
export interface NativeCallbackInfo {
  readonly handle: NativeCallback;
  readonly ptr: NativePointer;
}
/** Makes a C function pointer calling `fn` with `{ args?, returns?, threadsafe? }`. */
export const callbackCreate: (fn: Function, definition: object) => NativeCallbackInfo;
/** Gives back a callback's slot and frees its reference to the function; idempotent. */
export const callbackClose: (handle: NativeCallback) => void;
/** Callbacks created and not closed (whole process). */
export const callbackLiveCount: () => number;
/** How many callbacks can be open at once (the slot table's size, set at build time). */
export const callbackSlotCount: () => number;
