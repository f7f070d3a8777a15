// Child process of the webgpu probe (see discoverWebgpuAdapter in webgpu.ts): asks Dawn for the adapter
// it would give the engine and prints its description as one JSON line. It runs apart from the engine
// because Dawn and the Vulkan drivers write warnings straight to fd 2, which only a parent can capture.
import { pathToFileURL } from 'node:url';
import { describeAdapter } from './webgpu-adapter';
import type { WebgpuDiscoveryReply } from './webgpu';

async function discover(dawnEntry: string): Promise<WebgpuDiscoveryReply> {
  const dawn = (await import(pathToFileURL(dawnEntry).href)) as { create(options: string[]): GPU };
  const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  return adapter ? { adapter: describeAdapter(adapter) } : {};
}

discover(process.argv[2]!).then(
  // Dawn keeps the process alive while its GPU object exists: leave once the line is written.
  (reply) => process.stdout.write(JSON.stringify(reply) + '\n', () => process.exit(0)),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
