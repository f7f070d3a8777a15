// Fashion-MNIST for tests. Tests that need some real images read the small sample kept in the
// repository (test/fixtures/fashion-mnist-sample, written by scripts/make-fashion-sample.ts), so they run
// on a fresh machine. The checks about Debian's dataset-fashion-mnist package itself run where it is
// installed and skip elsewhere with the reason, except under GOWIDE_REQUIRE_DEBIAN_DATA=1 (CI, where
// .ci/run installs it): there its absence fails.
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { DEBIAN_FASHION_MNIST } from '../../server/data/fashion-mnist';
import { IDX_FILE_NAMES, missingIdxFiles } from '../../server/data/idx';

/** The repository's sample: the first 1,000 training and 300 test images of Fashion-MNIST. */
export const FASHION_MNIST_SAMPLE = join(__dirname, '..', 'fixtures', 'fashion-mnist-sample');
export const SAMPLE_COUNTS = { train: 1000, test: 300 } as const;

/** How many items each of the four IDX files holds in a folder of `train` training and `test` test examples. */
export function idxFileCounts(train: number, test: number): Record<string, number> {
  return {
    [IDX_FILE_NAMES.trainImages]: train, [IDX_FILE_NAMES.trainLabels]: train,
    [IDX_FILE_NAMES.testImages]: test, [IDX_FILE_NAMES.testLabels]: test,
  };
}

/** GOWIDE_REQUIRE_DEBIAN_DATA=1 (CI): a missing dataset-fashion-mnist fails instead of skipping. */
export const requireDebianData = process.env.GOWIDE_REQUIRE_DEBIAN_DATA === '1';

export function debianFashionMnistFound(): boolean {
  return missingIdxFiles(DEBIAN_FASHION_MNIST).length === 0;
}

/**
 * For a check about Debian's package: true when it is installed. Otherwise skips the test with the
 * reason, or throws under GOWIDE_REQUIRE_DEBIAN_DATA=1.
 */
export function debianFashionMnistOrSkip(t: TestContext): boolean {
  if (debianFashionMnistFound()) return true;
  const why = `Debian's Fashion-MNIST is missing (${DEBIAN_FASHION_MNIST}): apt-get install dataset-fashion-mnist`;
  if (requireDebianData) throw new Error(why);
  t.skip(why);
  return false;
}

/** The first `count` items of an uncompressed IDX file (format in server/data/idx.ts), its header saying so. */
export function idxHead(file: Buffer, count: number): Buffer {
  const rank = file[3]!;
  let itemBytes = 1;
  for (let d = 1; d < rank; d++) itemBytes *= file.readUInt32BE(4 + 4 * d);
  const headerBytes = 4 + 4 * rank;
  const header = Buffer.from(file.subarray(0, headerBytes));
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, file.subarray(headerBytes, headerBytes + count * itemBytes)]);
}
