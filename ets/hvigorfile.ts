import * as fs from 'fs';
import * as path from 'path';
import { harTasks } from '@ohos/hvigor-ohos-plugin';
import type { HvigorNode, HvigorPlugin } from '@ohos/hvigor';

// The native module the package ships, one per ABI. They are build outputs of
// `bash scripts/build-ohos.sh` at the ArkFFI repository root (docs/ohos-build.md), not
// committed; a HAR or HAP built without them fails to load 'libarkffi.so' on the device.
const ABIS: string[] = ['arm64-v8a', 'x86_64'];

/** The `libs/<abi>/libarkffi.so` files missing under `moduleDir`. */
export function missingNativeLibs(moduleDir: string): string[] {
  return ABIS.map((abi: string) => path.join('libs', abi, 'libarkffi.so'))
    .filter((lib: string) => !fs.existsSync(path.join(moduleDir, lib)));
}

/** Warns when hvigor configures this module and a libarkffi.so has not been built. */
export function nativeLibCheck(moduleDir: string): HvigorPlugin {
  return {
    pluginId: 'arkffiNativeLibCheck',
    apply(_node: HvigorNode): void {
      const missing = missingNativeLibs(moduleDir);
      if (missing.length > 0) {
        console.warn(`arkffi: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing, ` +
          `so the package cannot load its native module on ${missing.length > 1 ? 'any device' : 'that ABI'}. ` +
          'Build it with `bash scripts/build-ohos.sh` at the ArkFFI repository root (docs/ohos-build.md).');
      }
    }
  };
}

export default {
  system: harTasks, // hvigor's built-in HAR tasks
  plugins: [nativeLibCheck(__dirname)]
};
