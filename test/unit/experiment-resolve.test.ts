import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_IMITATE } from '../../server/experiment/defaults';
import { ExperimentError } from '../../server/experiment/errors';
import { loadExperimentFile, validateExperimentText } from '../../server/experiment/load';
import { resolveExperiment } from '../../server/experiment/resolve';
import { createExperimentFile, createExperimentText } from '../../server/experiment/create';
import { parseJsonText } from '../../server/experiment/json-text';
import { DATA_CHOICES } from '../../extension/new-experiment-flow';

const EXAMPLES = resolve(__dirname, '../../examples');
const minimal = (model: object = { family: 'mlp' }, data: object = { format: 'shapes' }) => ({ name: 't', data, model });

function errorsOf(raw: unknown, file = '/tmp/t.gowide.json') {
  return resolveExperiment(raw, file).problems.filter((p) => p.severity === 'error');
}

describe('experiment files: problems name the file, the field and the fix', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gowide-exp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function load(name: string, text: string): ExperimentError {
    const path = join(dir, name);
    writeFileSync(path, text);
    try {
      loadExperimentFile(path);
    } catch (error) {
      assert.ok(error instanceof ExperimentError);
      assert.equal(error.file, path);
      return error;
    }
    assert.fail('expected an ExperimentError');
  }

  it('invalid JSON gives line:column', () => {
    const error = load('syntax.gowide.json', '{\n  "name": "x",\n  "model": { "family": "mlp" }\n  "data": {}\n}\n');
    assert.match(error.message, /^syntax\.gowide\.json:4:3: invalid JSON: expected "," or "}" after a property value but found "\\""/);
    assert.equal(error.problems[0].line, 4);
    assert.equal(error.problems[0].column, 3);
  });

  it('unknown family, in the documented format', () => {
    const error = load('broken.gowide.json', JSON.stringify(minimal({ family: 'resnett' })));
    assert.equal(error.message, 'broken.gowide.json: model.family: "resnett" is not a model family; use one of mlp, cnn, resnet, transformer');
  });

  it('factor < 1, also per layer', () => {
    const error = load('factor.gowide.json', JSON.stringify({ ...minimal({ family: 'mlp', depth: 3 }), widen: { factor: 0.5, perLayer: [1, 0, 2] } }));
    assert.match(error.message, /factor\.gowide\.json: widen\.factor: factor must be >= 1, got 0\.5; use 1 to keep a block thin/);
    assert.match(error.message, /widen\.perLayer\[1\]: factor must be >= 1, got 0; use 1 to keep a block thin/);
  });

  it('perLayer length must equal depth', () => {
    const error = load('perlayer.gowide.json', JSON.stringify({ ...minimal({ family: 'mlp', depth: 4 }), widen: { perLayer: [2, 2] } }));
    assert.match(error.message, /widen\.perLayer: perLayer has 2 factors but model\.depth is 4; give one factor per block \(4\)/);
  });

  it('missing data folder', () => {
    const error = load('nodata.gowide.json', JSON.stringify(minimal({ family: 'mlp' }, { format: 'idx', path: 'no-such-folder' })));
    assert.match(error.message, /nodata\.gowide\.json: data\.path: data folder .*no-such-folder does not exist; fix data\.path \(relative paths start from the experiment file's folder/);
  });

  it('missing file', () => {
    assert.throws(() => loadExperimentFile(join(dir, 'absent.gowide.json')), /absent\.gowide\.json: file not found/);
  });

  it('field problems carry the line and column of the field', () => {
    const text = '{\n  "name": "x",\n  "data": { "format": "shapes" },\n  "model": {\n    "family": "mlp",\n    "depth": -2\n  }\n}\n';
    const result = validateExperimentText(join(dir, 'x.gowide.json'), text);
    assert.equal(result.ok, false);
    assert.deepEqual(result.problems.map((p) => [p.field, p.line, p.column]), [['model.depth', 6, 5]]);
  });

  it('unknown keys are warnings with a suggestion', () => {
    const result = resolveExperiment({ ...minimal(), wide: { epoch: 3 } }, '/tmp/t.gowide.json');
    assert.ok(result.experiment, 'warnings do not stop the experiment');
    assert.deepEqual(result.problems.map((p) => [p.field, p.severity, p.fix]), [['wide.epoch', 'warning', 'did you mean "epochs"?']]);
  });

  it('duplicate keys are reported', () => {
    const parsed = parseJsonText('{"a": 1, "b": {"c": 1, "c": 2}}');
    assert.deepEqual(parsed.duplicateKeys, ['b.c']);
  });
});

describe('baselines', () => {
  it('accepts the matched controls beside scratch and kd', () => {
    const all = ['scratch', 'kd', 'scratch-steps', 'kd-steps', 'scratch-compute'];
    const result = resolveExperiment({ ...minimal(), baselines: all }, '/tmp/t.gowide.json');
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.experiment!.baselines, all);
  });

  it('refuses an unknown baseline, naming the field and the choices', () => {
    const [problem, ...rest] = errorsOf({ ...minimal(), baselines: ['scratch', 'scratch-epochs'] });
    assert.equal(rest.length, 0);
    assert.equal(problem.field, 'baselines[1]');
    assert.equal(problem.message, '"scratch-epochs" is not a baseline');
    assert.equal(problem.fix, 'use one of scratch, kd, scratch-steps, kd-steps, scratch-compute');
  });
});

describe('defaults', () => {
  it('fills every section from defaults for each family', () => {
    const mlp = resolveExperiment(minimal(), '/tmp/t.gowide.json').experiment!;
    assert.deepEqual(mlp.imitate, { ...DEFAULT_IMITATE, groups: 'block' });
    assert.equal(mlp.imitate.input, 'thin');
    assert.equal(mlp.imitate.lowerLayers, 'slow');
    assert.equal(mlp.imitate.slowFactor, 0.1);
    assert.equal(mlp.imitate.normalizeTargets, true);
    assert.equal(mlp.widen.mode, 'all');
    assert.deepEqual(mlp.seeds, [1, 2, 3]);
    assert.deepEqual(mlp.baselines, ['scratch', 'kd']);
    assert.deepEqual(mlp.data, { format: 'shapes', trainLimit: 0, testLimit: 0, validationSplit: 0.1 });

    const resnet = resolveExperiment(minimal({ family: 'resnet', depth: 9 }), '/tmp/t.gowide.json').experiment!;
    assert.equal(resnet.widen.mode, 'inside');
    assert.equal(resnet.model.normalization, true);
    assert.deepEqual(resnet.model.downsampleAt, [2, 5]);
    assert.equal(resnet.imitate.groups, 'stage');

    const cnn = resolveExperiment(minimal({ family: 'cnn', depth: 6 }), '/tmp/t.gowide.json').experiment!;
    assert.deepEqual([cnn.widen.mode, cnn.imitate.groups], ['inside', 'stage']);

    const transformer = resolveExperiment(minimal({ family: 'transformer' }, { format: 'majority' }), '/tmp/t.gowide.json').experiment!;
    assert.equal(transformer.model.width % transformer.model.heads, 0);
    assert.equal(transformer.model.activation, 'gelu');
  });

  it('user values win over defaults', () => {
    const e = resolveExperiment({ ...minimal({ family: 'mlp', depth: 3, width: 8 }), widen: { perLayer: [1, 2, 3] }, imitate: { input: 'wide', lowerLayers: 'frozen' }, seeds: [7] }, '/tmp/t.gowide.json').experiment!;
    assert.deepEqual([e.model.depth, e.model.width, e.widen.perLayer, e.imitate.input, e.imitate.lowerLayers, e.seeds], [3, 8, [1, 2, 3], 'wide', 'frozen', [7]]);
  });
});

describe('semantic checks', () => {
  it('transformer width must be divisible by heads', () => {
    const errors = errorsOf(minimal({ family: 'transformer', width: 30, heads: 4 }, { format: 'majority' }));
    assert.deepEqual(errors.map((p) => p.field), ['model.heads']);
    assert.match(errors[0].fix!, /e\.g\. 32/);
  });

  it('cnn and resnet need images, transformer takes token sequences or images (FAMILY_DATA_KINDS)', () => {
    const cnn = errorsOf(minimal({ family: 'cnn' }, { format: 'majority' }));
    assert.equal(cnn[0].message, '"majority" gives sequence data but model.family "cnn" needs images');
    assert.equal(cnn[0].fix, 'use image data (idx, fashion-mnist, shapes), or model.family "mlp" or "transformer"');
    const dir = mkdtempSync(join(tmpdir(), 'gowide-csv-'));
    writeFileSync(join(dir, 'rows.csv'), 'a,b,label\n1,2,0\n');
    const tabular = errorsOf(minimal({ family: 'transformer' }, { format: 'csv', path: join(dir, 'rows.csv') }));
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(tabular.map((p) => [p.field, p.message, p.fix]), [[
      'data.format', '"csv" gives tabular data but model.family "transformer" needs token sequences or images',
      'use sequence data (majority) or image data (idx, fashion-mnist, shapes), or model.family "mlp"',
    ]]);
    for (const format of ['shapes', 'fashion-mnist', 'majority']) {
      const resolved = resolveExperiment(minimal({ family: 'transformer' }, { format }), '/tmp/t.gowide.json');
      assert.deepEqual(resolved.problems, [], format);
      assert.equal(resolved.experiment!.model.patchSize, 4, format);
    }
  });

  it('transformer on images: a patch size that does not cut the image into whole patches is refused', () => {
    const errors = errorsOf(minimal({ family: 'transformer', patchSize: 5 }, { format: 'fashion-mnist' }));
    assert.deepEqual(errors.map((p) => [p.field, p.message, p.fix]), [[
      'model.patchSize', 'model.patchSize 5 does not cut the 28x28 images into whole patches', 'use a patch size that divides 28: 1, 2, 4, 7, 14, 28',
    ]]);
    assert.deepEqual(errorsOf(minimal({ family: 'transformer', patchSize: 7 }, { format: 'fashion-mnist' })), []);
    assert.equal(errorsOf(minimal({ family: 'transformer', patchSize: 7 }, { format: 'shapes' }))[0].fix, 'use a patch size that divides 16: 1, 2, 4, 8, 16');
  });

  it('patchSize outside the transformer on images is ignored with a warning', () => {
    for (const [family, format] of [['mlp', 'shapes'], ['transformer', 'majority']]) {
      const { experiment, problems } = resolveExperiment(minimal({ family, patchSize: 7 }, { format }), '/tmp/t.gowide.json');
      assert.ok(experiment, `${family} on ${format}`);
      assert.deepEqual(problems.map((p) => [p.field, p.severity, p.fix]), [['model.patchSize', 'warning', 'remove it']], `${family} on ${format}`);
    }
  });

  it('downsampleAt indices must be below depth and not shrink the image away', () => {
    assert.deepEqual(errorsOf(minimal({ family: 'cnn', depth: 4, downsampleAt: [1, 4] })).map((p) => p.field), ['model.downsampleAt[1]']);
    assert.deepEqual(errorsOf(minimal({ family: 'cnn', depth: 6, downsampleAt: [0, 1, 2, 3, 4] })).map((p) => p.field), ['model.downsampleAt']);
  });

  it('a wide net too large to train is refused, a large one warned about', () => {
    const huge = errorsOf({ ...minimal({ family: 'mlp', depth: 40, width: 2048 }), widen: { factor: 16 } });
    assert.equal(huge[0].field, 'widen.factor');
    assert.match(huge[0].message, /wide net has about .* parameters and needs about .* GiB to train, more than/);
    const big = resolveExperiment({ ...minimal({ family: 'mlp', depth: 12, width: 512 }), widen: { factor: 4 } }, '/tmp/t.gowide.json');
    assert.ok(big.experiment);
    assert.deepEqual(big.problems.map((p) => [p.field, p.severity]), [['widen.factor', 'warning']]);
  });

  it('types, enums and required fields', () => {
    const errors = errorsOf({ data: { format: 'shapes' }, model: { family: 'mlp', depth: '12', normalization: 'yes' }, seeds: [1, 1], wide: { optimizer: 'adamw' } });
    assert.deepEqual(errors.map((p) => p.field).sort(), ['model.depth', 'model.normalization', 'name', 'seeds[1]', 'wide.optimizer']);
    assert.equal(errors.find((p) => p.field === 'model.depth')!.fix, 'write 12 without quotes');
    assert.deepEqual(errorsOf('not an object').map((p) => p.message), ['the file holds a string, not a JSON object']);
  });
});

describe('examples and new files', () => {
  for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith('.gowide.json'))) {
    it(`examples/${file} validates with no problems`, () => {
      const { experiment, problems } = loadExperimentFile(join(EXAMPLES, file));
      assert.deepEqual(problems, []);
      assert.equal(`${experiment.name}.gowide.json`, file);
    });
  }

  it('createExperimentText gives a file that validates, and creation refuses to overwrite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gowide-create-'));
    try {
      for (const family of ['mlp', 'cnn', 'resnet', 'transformer'] as const) {
        const path = join(dir, `${family}.gowide.json`);
        const text = createExperimentText({ path, name: family, family });
        assert.deepEqual(validateExperimentText(path, text), { ok: true, problems: [] }, family);
      }
      const path = join(dir, 'new.gowide.json');
      const created = createExperimentFile({ path, name: 'new', family: 'mlp', depth: 20, width: 24, widenFactor: 6 });
      assert.equal(readFileSync(path, 'utf8'), created.text);
      assert.equal(loadExperimentFile(path).experiment.widen.factor, 6);
      assert.throws(() => createExperimentFile({ path, name: 'new', family: 'cnn' }), /new\.gowide\.json: already exists; choose another name, or set overwrite/);
      createExperimentFile({ path, name: 'new', family: 'cnn', overwrite: true });
      assert.equal(loadExperimentFile(path).experiment.model.family, 'cnn');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('every built-in data set the New Experiment flow offers a family gives a file that validates with the defaults', () => {
    const offered = DATA_CHOICES.filter((choice) => !choice.needsPath).flatMap((choice) => choice.families.map((family) => ({ family, format: choice.format })));
    assert.ok(offered.some((o) => o.family === 'transformer' && o.format === 'shapes'), 'the transformer is offered images');
    for (const { family, format } of offered) {
      const path = `/tmp/${family}-${format}.gowide.json`;
      const text = createExperimentText({ path, name: `${family}-${format}`, family, dataFormat: format });
      assert.deepEqual(validateExperimentText(path, text), { ok: true, problems: [] }, `${family} on ${format}`);
    }
  });
});
