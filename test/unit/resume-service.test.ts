// The sidecar's training service: StartStageParams.resume finishes the latest unfinished run of the
// experiment (here one stopped during imitation) in the same folder, keeping its metrics.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunSummary } from '../../server/protocol';
import { createTrainingService } from '../../server/training/local-service';
import { readJournal } from '../../server/runs/run-journal';
import { assertMetricsClean } from './resume-helpers';

test('startStage with resume continues the stopped run from its last block checkpoint', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gowide-resume-service-'));
  const experimentPath = path.join(dir, 'svc.gowide.json');
  fs.writeFileSync(
    experimentPath,
    JSON.stringify({
      name: 'svc',
      data: { format: 'shapes', trainLimit: 1000, testLimit: 200, validationSplit: 0.2 },
      model: { family: 'mlp', depth: 3, width: 16 },
      widen: { factor: 2 },
      wide: { epochs: 3, batchSize: 64, learningRate: 0.003 },
      imitate: { epochsPerLayer: 6, batchSize: 32 },
      finetune: { epochs: 1, batchSize: 64 },
      baselines: [],
      minWideAccuracy: 0,
      seeds: [1],
      backend: 'wasm',
    }),
  );
  const logs: string[] = [];
  let stopAfterBlock: (() => void) | undefined;
  const service = createTrainingService({
    onMetrics: () => undefined,
    onProgress: () => undefined,
    onLog: (_, message) => logs.push(message),
    onRunState: (run: RunSummary) => {
      if (run.stages.find((s) => s.stage === 'imitate')?.blocks?.some((b) => b.index === 0 && b.state === 'done')) stopAfterBlock?.();
    },
  });
  const runsDir = path.join(dir, 'runs');
  const first = await service.startStage({ experimentPath, stage: 'all', runsDir });
  stopAfterBlock = () => {
    stopAfterBlock = undefined;
    void service.stop({ runId: first.runId });
  };
  const deadline = Date.now() + 60_000;
  let stopped: RunSummary | undefined;
  while (Date.now() < deadline) {
    stopped = (await service.listRuns({ runsDir })).find((r) => r.runId === first.runId);
    if (stopped && stopped.state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(stopped?.state, 'stopped', stopped?.error);

  const resumed = await service.startStage({ experimentPath, stage: 'all', runsDir, resume: true, wait: true });
  assert.equal(resumed.runId, first.runId, 'the same run folder');
  assert.equal(resumed.summary?.state, 'done', resumed.summary?.error);
  assert.deepEqual(Object.keys(resumed.summary!.arms).sort(), ['wide', 'win']);
  assert.ok(logs.some((m) => /continuing run .* from seed 1, imitate block \d/.test(m)), logs.join('\n'));
  assertMetricsClean(resumed.runDir);
  assert.ok(readJournal(resumed.runDir)!.entries.some((e) => e.kind === 'commit' && e.phase === 'finetune'));
  await assert.rejects(service.startStage({ experimentPath, stage: 'all', runsDir, resume: true }), /nothing to resume/);
});
