// The generated outside-variants part of docs/EVIDENCE.md: per setting of the list, win - scratch
// paired by seed for each variant of the defaults (docs/evidence/variants.json) beside the defaults'
// own (the run of the list they were paired with, in docs/evidence/).
import type { JsonReport } from '../../server/cli/report';
import { ranAsListed, ranWith, signed, type OutsideResult, type OutsideResults } from './outside-report';
import { OUTSIDE_SETTINGS, type OutsideSetting } from './outside-settings';
import { ranOnText } from './run-study';
import { METHOD_VARIANTS, variantFile, type MethodVariant } from './variant-settings';

/** One variant's run of one setting as kept in docs/evidence/variants.json. */
export interface VariantResult extends OutsideResult {
  variant: string;
}

/** Keyed by variant, then by setting id. */
export type VariantResults = Record<string, Record<string, VariantResult>>;

type Ran = Pick<OutsideResult, 'seeds' | 'report'>;

const signed1 = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

/** Win - scratch of each seed, in the run's seed order; undefined unless both arms have every seed. */
function perSeedDifferences(r: Ran): number[] | undefined {
  const win = r.report.arms.win?.accuracy.perSeed;
  const scratch = r.report.arms.scratch?.accuracy.perSeed;
  if (!win || !scratch || win.length !== r.seeds.length || scratch.length !== r.seeds.length) return undefined;
  return win.map((w, i) => w - scratch[i]);
}

/** "+0.26 (1 of 2; +3.0, -2.5)": paired mean, seeds ahead and each seed's difference. */
function pairedCell(r: Ran, best: boolean): string {
  const p = r.report.paired?.['win-scratch'];
  if (!p) return 'no pair: an arm failed';
  const seeds = perSeedDifferences(r);
  const mean = best ? `**${signed(p.mean)}**` : signed(p.mean);
  return `${mean} (${p.ahead} of ${p.seeds}${seeds ? `; ${seeds.map(signed1).join(', ')}` : ''})`;
}

const sameScratch = (a: JsonReport, b: JsonReport) => JSON.stringify(a.arms.scratch?.accuracy.perSeed) === JSON.stringify(b.arms.scratch?.accuracy.perSeed);

/** The table, the legend and where it ran. Rows: the settings any variant ran, in the list's order;
 *  columns: the variants with a result, then the defaults. The best paired mean of a row is in bold. */
/** listRun: which run of the list the variants pair with, for the last column's header. */
export function variantsTable(
  results: VariantResults,
  outside: OutsideResults,
  listRun = "the list's run",
  settings: OutsideSetting[] = OUTSIDE_SETTINGS,
  variants: MethodVariant[] = METHOD_VARIANTS,
): string {
  const shown = variants.filter((v) => Object.keys(results[v.name] ?? {}).length > 0);
  const rowsRan = settings.filter((s) => shown.some((v) => results[v.name][s.id]));
  if (rowsRan.length === 0) return 'No variant has run yet: `npm run evidence:variants`.';
  const rows = [
    `| setting | ${shown.map((v) => `\`${v.name}\``).join(' | ')} | defaults (${listRun}) |`,
    `|---|${shown.map(() => '---|').join('')}---|`,
  ];
  const current: VariantResult[] = [];
  const scratchDiffers: string[] = [];
  for (const s of rowsRan) {
    const cells: (Ran | string)[] = shown.map((v) => {
      const r = results[v.name][s.id];
      if (!r) return 'not run';
      if (!ranWith(variantFile(s, v, r.seeds).file, r)) return 'ran with other settings: re-run';
      current.push(r);
      return r;
    });
    const listRun = outside[s.id];
    cells.push(!listRun ? 'not run' : ranAsListed(s, listRun) ? listRun : 'ran with other settings: re-run the list');
    if (listRun) for (const r of current.filter((r) => r.id === s.id)) if (!sameScratch(r.report, listRun.report)) scratchDiffers.push(`${r.variant} on ${s.id}`);
    const means = cells.map((c) => (typeof c === 'string' ? -Infinity : (c.report.paired?.['win-scratch']?.mean ?? -Infinity)));
    const best = Math.max(...means);
    rows.push(`| \`${s.id}\` | ${cells.map((c, i) => (typeof c === 'string' ? c : pairedCell(c, means[i] === best))).join(' | ')} |`);
  }
  const legend = shown.map((v) => `- \`${v.name}\`: ${v.title}.`);
  const seeds = [...new Set(current.map((r) => r.seeds.join(', ')))];
  const machines = [...new Set(current.map((r) => ranOnText(r.ranOn)))];
  const scratch = scratchDiffers.length === 0
    ? "Every variant's scratch arm gave the list's run's accuracies seed for seed."
    : `Scratch differs from the list's run for ${scratchDiffers.join(', ')}: not paired with its defaults column (another machine or commit?).`;
  const minutes = current.reduce((sum, r) => sum + r.seconds, 0) / 60;
  return [
    rows.join('\n'),
    '',
    `Win - scratch in points of test accuracy, paired by seed: the mean (on how many seeds win is ahead; each seed's difference, in the seeds' order); seeds ${seeds.join(' / ') || '-'}. ${scratch}`,
    `Variants ran on ${machines.join('; ') || '-'} (${minutes.toFixed(1)} min in all).`,
    '',
    ...legend,
  ].join('\n');
}
