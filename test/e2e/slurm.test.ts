// End-to-end on a real Slurm cluster (the one-node cluster of scripts/slurm/start-cluster.sh): the
// packaged extension in code-server, a workspace that sets no launcher, sbatch on PATH. Run All Stages
// asks where the jobs run; "Slurm cluster (sbatch)" submits them, and the explorer shows the run's
// launcher and its jobs with their Slurm ids and states (the imitation job PENDING on its dependency
// while the wide net trains) until the run is done; a job's log opens from the explorer. Skipped with
// the reason where no cluster answers, except under GOWIDE_REQUIRE_SLURM=1.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { defaultRunsDir } from '../../server/runs/names';
import { requireSlurm, slurmClusterProblem } from '../unit/slurm-cluster';
import { E2E_ARTIFACTS, installTools, packageExtension, ROOT, startWorkbench, type Workbench } from './code-server';
import { Scenario } from './scenario';
import { stateOfIcon, Ui, type TreeRow } from './workbench-ui';

/** cluster.gowide.json: three jobs of about a second's training each (wide; win after it; scratch). No .vscode settings. */
const FIXTURE = join(ROOT, 'test/e2e/workspace-slurm');
const JOBS = ['wide-seed1', 'win-seed1', 'scratch-seed1'];
/** Slurm starts each job within seconds here and each trains for seconds; this bounds a stuck run. */
const RUN_TIMEOUT = 240_000;

let workbench: Workbench | undefined;
let ui: Ui;
const scenario = new Scenario();
const step = scenario.step.bind(scenario);

const missing = slurmClusterProblem();
if (missing && requireSlurm) throw new Error(missing);

const runRow = (rows: TreeRow[]) => rows.find((r) => /^cluster · /.test(r.label));

describe('gowide on Slurm in VS Code (code-server, one-node cluster, through the UI)', { timeout: 10 * 60_000, skip: missing }, () => {
  before(async () => {
    const started = Date.now();
    const tools = installTools();
    const vsix = packageExtension();
    workbench = await startWorkbench({ tools, vsix, fixture: FIXTURE });
    ui = new Ui(workbench.page, join(E2E_ARTIFACTS, 'slurm'));
    scenario.ui = ui;
    console.log(`e2e slurm: tools, package and code-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s; workspace ${workbench.workspace}`);
  });

  after(async () => {
    if (scenario.failed && workbench) console.log(`e2e slurm: code-server output (tail):\n${workbench.log().slice(-3000)}`);
    await workbench?.close();
  });

  step('the workbench opens with the experiment and the sidecar', async () => {
    await ui.openGoWideExplorer('cluster');
    await ui.waitFor('the sidecar in the status bar ("gowide: <backend>")', async () => (await ui.statusBarTexts()).some((t) => /gowide: (wasm|cpu|tensorflow|webgpu)/.test(t)), 90_000, async () => JSON.stringify(await ui.statusBarTexts()));
  });

  step('Run All Stages on the Slurm cluster: the explorer shows each job\'s Slurm state until the run is done', async () => {
    await ui.focusEditor('cluster.gowide.json');
    await ui.runCommand('Go Wide: Run All Stages');
    await ui.pick('Slurm cluster (sbatch)', 'Run All Stages: where do the jobs run?');
    await ui.expand('cluster', 30_000);
    /** Every description each job row showed, in order, without repeats. */
    const seen = new Map<string, string[]>();
    await ui.waitFor(
      'the Slurm run to finish in the explorer',
      async () => {
        const rows = await ui.treeRows();
        const run = runRow(rows);
        if (run && run.expanded === 'false') await ui.expand(/^cluster · /).catch(() => undefined);
        const jobs = rows.find((r) => r.label === 'Jobs');
        if (jobs && jobs.expanded === 'false') await ui.expand('Jobs').catch(() => undefined);
        for (const row of await ui.treeRows()) {
          if (!JOBS.includes(row.label)) continue;
          const states = seen.get(row.label) ?? [];
          if (states.at(-1) !== row.description) states.push(row.description);
          seen.set(row.label, states);
        }
        const now = runRow(await ui.treeRows());
        return now !== undefined && stateOfIcon(now.icon) === 'done';
      },
      RUN_TIMEOUT,
      () => ui.describeTree(),
    );
    console.log(`e2e slurm: job rows seen: ${JSON.stringify(Object.fromEntries(seen))}`);
    const rows = await ui.treeRows();
    // The run row names its launcher and ends with the result, as a run in one process does.
    assert.match(runRow(rows)!.description, /^slurm · win \d+\.\d% vs scratch \d+\.\d%/, `the run row does not name its launcher and result: ${await ui.describeTree()}`);
    // A Slurm job id, then the state in Slurm's words.
    for (const job of JOBS) {
      const row = rows.find((r) => r.label === job);
      assert.ok(row, `no explorer row for job ${job}: ${await ui.describeTree()}`);
      assert.match(row.description, /^\d+(_\d+)? · COMPLETED$/, `${job} did not end COMPLETED with its Slurm id`);
    }
    // While the wide net trained, the imitation job waited on it (afterok): Slurm's PENDING with its reason.
    assert.ok(seen.get('win-seed1')?.some((d) => /· PENDING \(Dependency\)$/.test(d)), `win-seed1 was never shown PENDING (Dependency): ${JSON.stringify(seen.get('win-seed1'))}`);
    assert.ok([...seen.values()].some((states) => states.some((d) => /· RUNNING/.test(d))), `no job was ever shown RUNNING: ${JSON.stringify(Object.fromEntries(seen))}`);
    const stage = rows.find((r) => r.label === 'Layerwise imitation');
    assert.match(stage?.description ?? '', /in win-seed1 COMPLETED/, 'the imitation stage does not say which job it ran in');

    // The run folder: the jobs went through Slurm, and every job's folder is a finished run.
    const runsDir = defaultRunsDir(join(workbench!.workspace, 'cluster.gowide.json'));
    const runs = readdirSync(runsDir);
    assert.equal(runs.length, 1, `runs: ${runs.join(', ')}`);
    const jobsFile = JSON.parse(readFileSync(join(runsDir, runs[0], 'jobs.json'), 'utf8')) as { launcher: string; jobs: { name: string }[] };
    assert.equal(jobsFile.launcher, 'slurm');
    assert.deepEqual(jobsFile.jobs.map((j) => j.name).sort(), [...JOBS].sort());
  });

  step('Open Job Log from the explorer opens the job\'s Slurm output', async () => {
    // A click on a job row runs its command, Open Job Log.
    await ui.treeRow('wide-seed1').click();
    await ui.waitFor('the editor of wide-seed1\'s log', async () => /^wide-seed1\.attempt1\.log/.test((await ui.activeTabLabel()) ?? ''), 20_000, async () => `active tab: ${await ui.activeTabLabel()}`);
  });
});
