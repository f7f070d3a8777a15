// A kept screen (docs/evidence/<name>-screen.json): variants of one example run on a few seeds to choose
// a default, each a `gowide run --json` report. One variant ran scratch beside it; the others keep the
// thin budget, so they pair with that scratch seed by seed. The table is generated into docs/EVIDENCE.md.
import type { JsonReport } from '../../server/cli/report';
import { pairedDifference } from '../../server/runs/paired';
import { meanAndStd } from '../../server/runs/summary';
import { accuracyCell, pct, pct1, signed, warmStartCell } from './report';
import { ranOnText } from './run-study';

export interface ScreenVariant {
  name: string;
  /** What the variant sets, in words. */
  title: string;
  /** The experiment fields set on top of the example. */
  overrides: Record<string, unknown>;
  report: Pick<JsonReport, 'arms' | 'paired'> & { diagnostics?: Partial<NonNullable<JsonReport['diagnostics']>> };
}

export interface Screen {
  example: string;
  seeds: number[];
  measuredAt: string;
  ranOn: { nproc: number; cpuModel: string; commit: string };
  variants: ScreenVariant[];
}

export function screenTable(screen: Screen): string {
  const scratch = screen.variants.find((v) => v.report.arms.scratch)?.report.arms.scratch?.accuracy.perSeed;
  const rows = [
    '| variant | what it sets | wide (teacher) | **win** | warm start (validation, mean) | win - scratch, paired (seeds ahead; each seed) |',
    '|---|---|---|---|---|---|',
  ];
  for (const v of screen.variants) {
    const { wide, win } = v.report.arms;
    let pair = 'no scratch run';
    if (win && scratch && win.accuracy.perSeed.length === scratch.length) {
      const differences = win.accuracy.perSeed.map((w, i) => w - scratch[i]);
      const d = pairedDifference(differences);
      pair = `${signed(d.mean)} (${d.ahead} of ${d.seeds}; ${differences.map((x) => signed(x)).join(', ')})`;
    }
    rows.push(`| \`${v.name}\` | ${v.title} | ${accuracyCell(wide)} | **${accuracyCell(win)}** | ${warmStartCell(v.report.diagnostics?.warmStartAccuracy)} | ${pair} |`);
  }
  const scratchLine = scratch ? `scratch ${pct(meanAndStd(scratch).mean)} (${scratch.map(pct1).join(', ')})` : 'no scratch arm';
  return [
    ...rows,
    '',
    `Variants of \`${screen.example}\`, seeds ${screen.seeds.join(', ')}; test accuracy in %, mean ± std; ${scratchLine}. Ran ${screen.measuredAt.slice(0, 16).replace('T', ' ')} UTC on ${ranOnText(screen.ranOn)}.`,
  ].join('\n');
}
