// The extension-host test suite: runs inside a desktop VS Code started by @vscode/test-electron
// (test/e2e/run-electron.ts bundles this file and passes it as extensionTestsPath). It walks the same
// scenario as the UI suite through the vscode API: activation, contributed commands and view, a new
// experiment, Run All Stages with the four arms, stop midway and resume, restart of the idle sidecar.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunSummary } from '../../../server/protocol';

/** The part of the extension's API (its Ctx, returned by activate) this suite uses. */
interface GowideApi {
  listRuns(experimentPath: string): Promise<RunSummary[]>;
  readonly isRunning: boolean;
}

const RUN_TIMEOUT = 240_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 300));
  }
}

interface Step {
  name: string;
  body: () => Promise<void>;
}

export async function run(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'the suite needs the fixture workspace open (test/e2e/workspace)');
  const experiment = path.join(folder, 'fashion.gowide.json');
  const extension = vscode.extensions.getExtension<GowideApi>('gowide.gowide');
  let api: GowideApi;
  const newestRun = async (filter: (r: RunSummary) => boolean = () => true) => (await api.listRuns(experiment)).filter(filter)[0];
  // Command promises settle only after their closing notification is dismissed: poll the runs instead.
  const fire = (command: string, ...args: unknown[]) => void vscode.commands.executeCommand(command, ...args).then(undefined, () => undefined);

  const steps: Step[] = [
    {
      name: 'activates, with every contributed command registered and the explorer view',
      body: async () => {
        assert.ok(extension, 'extension gowide.gowide is not installed');
        api = await extension.activate();
        const contributed = (extension.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
        const registered = new Set(await vscode.commands.getCommands(true));
        assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed commands without a handler');
        const views = extension.packageJSON.contributes.views.gowide.map((v: { id: string }) => v.id);
        assert.ok(views.includes('gowide.experiments'), `views: ${views}`);
        await vscode.commands.executeCommand('gowide.experiments.focus');
        await until('the sidecar', async () => (api.isRunning ? true : undefined), 90_000);
      },
    },
    {
      name: 'Run All Stages ends with the four arms',
      body: async () => {
        await vscode.window.showTextDocument(vscode.Uri.file(experiment));
        fire('gowide.runAll', { experimentPath: experiment });
        const done = await until('a finished run', async () => newestRun((r) => r.state === 'done'), RUN_TIMEOUT);
        assert.deepEqual(Object.keys(done.arms).sort(), ['kd', 'scratch', 'wide', 'win']);
        assert.equal(done.stages.find((s) => s.stage === 'imitate')?.blocks?.length, 4);
      },
    },
    {
      name: 'Stop midway, then Resume',
      body: async () => {
        const before = (await api.listRuns(experiment)).length;
        fire('gowide.runAll', { experimentPath: experiment });
        const running = await until('the new run in layerwise imitation', async () => {
          const runs = await api.listRuns(experiment);
          const run = runs[0];
          return runs.length > before && run.state === 'running' && run.stages.some((s) => s.stage === 'imitate' && s.state === 'running') ? run : undefined;
        }, 120_000);
        fire('gowide.stop', { experimentPath: experiment, runId: running.runId });
        await until('the run to stop', async () => ((await newestRun()).state === 'stopped' ? true : undefined), 60_000);
        fire('gowide.resume', { experimentPath: experiment, runId: running.runId });
        const resumed = await until('the resumed run to finish', async () => {
          const run = (await api.listRuns(experiment)).find((r) => r.runId === running.runId);
          return run?.state === 'done' ? run : undefined;
        }, RUN_TIMEOUT);
        assert.ok(resumed.arms.win, 'the resumed run has no win arm');
      },
    },
    {
      name: 'restarts the idle sidecar, which lists the runs again',
      body: async () => {
        await vscode.commands.executeCommand('gowide.restartSidecar');
        await until('the restarted sidecar', async () => (api.isRunning ? true : undefined), 90_000);
        const runs = await until('runs from the restarted sidecar', async () => {
          const list = await api.listRuns(experiment);
          return list.length >= 2 ? list : undefined;
        }, 30_000);
        assert.ok(runs.every((r) => existsSync(r.runDir)));
      },
    },
  ];

  const failures: string[] = [];
  for (const step of steps) {
    const started = Date.now();
    try {
      if (failures.length > 0) {
        console.log(`- ${step.name} (skipped: an earlier step failed)`);
        continue;
      }
      await step.body();
      console.log(`ok ${step.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
      console.log(`not ok ${step.name}: ${failures[failures.length - 1]}`);
    }
  }
  if (failures.length > 0) throw new Error(`extension-host suite failed:\n${failures.join('\n')}`);
}
