// Fashion-MNIST: from a folder the user names, Debian's dataset-fashion-mnist package, or a cache
// folder that is filled by downloading the four IDX files when the network is up.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataError } from './errors';
import { IDX_FILE_NAMES, loadIdxFolder, missingIdxFiles } from './idx';
import type { UnsplitDataset } from './split';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist package puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** The download cache ($GOWIDE_CACHE or ~/.cache/gowide, then fashion-mnist). */
export function fashionMnistCacheFolder(): string {
  const base = process.env.GOWIDE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gowide');
  return join(base, 'fashion-mnist');
}

/** Where the files are downloaded from; $GOWIDE_FASHION_MNIST_URL overrides (a mirror). */
export function fashionMnistBaseUrl(): string {
  return process.env.GOWIDE_FASHION_MNIST_URL || 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';
}

/** The first folder among the Debian package and the cache that holds all four files, if any. */
export function findFashionMnist(): string | undefined {
  return [DEBIAN_FASHION_MNIST, fashionMnistCacheFolder()].find((folder) => missingIdxFiles(folder).length === 0);
}

function offlineAdvice(cache: string): string {
  return (
    `install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or put the four IDX files ` +
    `(${Object.values(IDX_FILE_NAMES).map((n) => `${n}.gz`).join(', ')}) in ${cache}`
  );
}

/** Downloads the missing files into the cache folder; each file is written whole or not at all. */
export async function downloadFashionMnist(timeoutMs = 60_000): Promise<string> {
  const cache = fashionMnistCacheFolder();
  mkdirSync(cache, { recursive: true });
  for (const name of missingIdxFiles(cache)) {
    const url = `${fashionMnistBaseUrl()}/${name}.gz`;
    let body: ArrayBuffer;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      body = await response.arrayBuffer();
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      const reason = [(error as Error).message, cause].filter(Boolean).join(': ');
      throw new DataError(url, `could not be downloaded (${reason})`, offlineAdvice(cache));
    }
    const target = join(cache, `${name}.gz`);
    writeFileSync(`${target}.part`, Buffer.from(body));
    renameSync(`${target}.part`, target);
  }
  return cache;
}

/** Fashion-MNIST from `folder` when given, else the Debian package, else the cache (downloading into it). */
export async function loadFashionMnist(folder?: string): Promise<UnsplitDataset> {
  if (folder) {
    if (!existsSync(folder)) {
      throw new DataError(folder, 'does not exist', `remove data.path to use the default location, or ${offlineAdvice(folder)}`);
    }
    return loadIdxFolder(folder, 'fashion-mnist', FASHION_MNIST_CLASSES);
  }
  const found = findFashionMnist() ?? (await downloadFashionMnist());
  return loadIdxFolder(found, 'fashion-mnist', FASHION_MNIST_CLASSES);
}
