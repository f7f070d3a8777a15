// The paper's headline at our scale (issue 17, item 3): Zhou et al. (2020) train a ResNet50 with the
// three stages past a ResNet101 from scratch. Here: the residual study's thin net with the three stages
// against a net of the same width and `depthMultiplier` times its depth, trained from scratch. Both
// experiment files are derived from the study's example, changing only what the pair needs.
import { basename } from 'node:path';
import { thinEpochBudget } from '../../server/experiment/budget';
import type { Experiment } from '../../server/experiment/types';
import { checkedExperiment, exampleForElsewhere, experimentText } from './example-file';
import { studiesById } from './studies';

export const HEADLINE_PAIR = {
  /** The study whose example is the thin net (its file, relative to the repository root). */
  study: studiesById(['resnet'])[0],
  depthMultiplier: 2,
  seeds: [1, 2, 3],
};

/** The two runs of the pair and the `gowide run FILE` arguments each gets: the thin net runs every
 *  stage, the deep net only its baselines (scratch alone, so no wide net is trained for it). */
export const HEADLINE_RUNS = {
  thin: { args: [] as string[] },
  deep: { args: ['--stage', 'baselines'] },
};
export type HeadlineRunId = keyof typeof HEADLINE_RUNS;
export const HEADLINE_RUN_IDS = Object.keys(HEADLINE_RUNS) as HeadlineRunId[];

export interface HeadlineFile {
  /** The experiment file as written into the runs folder. */
  file: Record<string, unknown>;
  /** The same, with every default filled in by the experiment checker. */
  experiment: Experiment;
}

type Example = Record<string, unknown> & { model?: Record<string, unknown> };

/**
 * The pair's experiment files from the example (`examplePath` makes its data paths absolute):
 * - thin: the example as it is (the three stages and its baselines, scratch among them), the seeds given;
 * - deep: depth x multiplier, the same width, scratch only. Its scratch arm gets the thin scratch arm's
 *   epoch budget (depth x imitate.epochsPerLayer + finetune.epochs): epochsPerLayer is divided by the
 *   multiplier, which changes nothing else for a run that neither imitates nor fine-tunes.
 * downsampleAt stays unset, so each net halves its feature map where the family's default puts it for
 * its depth; an example that sets it is refused (its block indices do not carry over to another depth).
 */
export function headlineFiles(example: Example, examplePath: string, seeds: number[] = HEADLINE_PAIR.seeds, multiplier = HEADLINE_PAIR.depthMultiplier): Record<HeadlineRunId, HeadlineFile> {
  if (!(Number.isInteger(multiplier) && multiplier >= 2)) throw new Error(`the depth multiplier must be a whole number from 2, got ${multiplier}`);
  if ('sweep' in example) throw new Error(`${examplePath} names a sweep: the pair needs an example of one run`);
  const model = example.model;
  if (!model || typeof model.depth !== 'number') throw new Error(`${examplePath} sets no model.depth: the pair doubles the example's own depth, so set it there`);
  if ('downsampleAt' in model) throw new Error(`${examplePath} sets model.downsampleAt: its block indices do not carry over to ${multiplier}x the depth; remove it (the family default is placed by depth)`);
  const base = exampleForElsewhere(example, examplePath);
  const title = `${model.family} ${model.depth} x ${model.width} from ${basename(examplePath)}`;
  const thinFile = { ...base, name: 'headline-thin', description: `The thin net of the headline pair (docs/EVIDENCE.md): ${title}, as the example has it.`, seeds };
  const thin = checkedExperiment(experimentText(thinFile), 'headline-thin.gowide.json', `the thin net derived from ${examplePath}`);
  if (!thin.baselines.includes('scratch')) throw new Error(`${examplePath}'s baselines leave out scratch: the pair compares the thin net's own scratch arm too; add "scratch"`);
  const deepDepth = thin.model.depth * multiplier;
  const deepFile = {
    ...base,
    name: 'headline-deep',
    description: `The deep net of the headline pair (docs/EVIDENCE.md): ${title} at ${multiplier}x the depth (${deepDepth}), the same width, from scratch only, on the thin scratch arm's epoch budget.`,
    model: { ...model, depth: deepDepth },
    imitate: { ...(example.imitate as object | undefined), epochsPerLayer: thin.imitate.epochsPerLayer / multiplier },
    baselines: ['scratch'],
    seeds,
  };
  const deep = checkedExperiment(experimentText(deepFile), 'headline-deep.gowide.json', `the deep net derived from ${examplePath}`);
  const budgets = [thin, deep].map((e) => thinEpochBudget(e.model.depth, e.imitate, e.finetune));
  if (Math.abs(budgets[0] - budgets[1]) > 1e-9) throw new Error(`the deep net's scratch budget (${budgets[1]} epochs) is not the thin net's (${budgets[0]}): check the example's imitate and finetune settings`);
  return { thin: { file: thinFile, experiment: thin }, deep: { file: deepFile, experiment: deep } };
}
