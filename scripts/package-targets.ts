// The platform-specific packages scripts/package.ts builds, and what each carries.

/** vsce target -> the folder of node_modules/webgpu/dist holding its dawn.node (macOS: one universal binary). */
export const PACKAGE_TARGETS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-universal',
  'darwin-arm64': 'darwin-universal',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
} as const;

export type PackageTarget = keyof typeof PACKAGE_TARGETS;

export function isPackageTarget(name: string): name is PackageTarget {
  return Object.hasOwn(PACKAGE_TARGETS, name);
}

/** The one target whose package carries the native OpenBLAS addon: the platform it is built on (this one). */
export const NATIVE_ADDON_TARGET = `${process.platform}-${process.arch}`;

/** dist/native: the addon, with OpenBLAS's notice beside it (scripts/build-native.mjs). */
export const NATIVE_DIR = 'dist/native';
export const NATIVE_ADDON = `${NATIVE_DIR}/gowide_blas.node`;

/** Where the staged webgpu package sits in the extension: dist/cli.js's import('webgpu') resolves it. */
export const WEBGPU_DIR = 'dist/node_modules/webgpu';

export function packageFile(target: PackageTarget): string {
  return `gowide-${target}.vsix`;
}
