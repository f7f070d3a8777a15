// Real-workbench screenshots for the README: the Go Wide explorer with a finished run, and a
// *.gowide.json editor with its code lenses and the inline sparklines of each block's imitation loss,
// in the dark and the light theme. Always saved to the artifacts; to docs/screenshots with GOWIDE_SCREENSHOTS=1.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './code-server';
import type { Ui } from './workbench-ui';

/** Theme picker labels (Preferences: Color Theme) and the workbench class each theme sets. */
const THEMES = [
  { name: 'dark', label: 'Dark Modern', light: false },
  { name: 'light', label: 'Light Modern', light: true },
] as const;
const SPARK = /[▁▂▃▄▅▆▇█]/;

async function chooseTheme(ui: Ui, theme: (typeof THEMES)[number]): Promise<void> {
  await ui.runCommand('Preferences: Color Theme');
  await ui.pick(theme.label);
  await ui.waitFor(`the ${theme.label} theme`, async () => {
    const light = await ui.page.locator('.monaco-workbench').evaluate((el) => el.classList.contains('vs'));
    return light === theme.light;
  }, 20_000);
}

export async function saveDocScreenshots(ui: Ui): Promise<void> {
  await ui.runCommand('View: Close All Editor Groups');
  await ui.openFile('fashion.gowide.json');
  // Only the newest run open in the explorer.
  const rows = await ui.treeRows();
  const runs = rows.filter((r) => /^fashion · /.test(r.label));
  for (const run of runs.slice(1)) if (run.expanded === 'true') await ui.collapse(run.label);
  await ui.waitFor('code lenses in the experiment editor', async () => (await ui.page.locator('.editor-group-container.active .codelens-decoration').count()) > 0, 30_000);
  await ui.waitFor('inline sparklines (inlay hints) in the experiment editor', async () => SPARK.test(await ui.editorText()), 30_000, () => ui.editorText());
  for (const theme of THEMES) {
    await chooseTheme(ui, theme);
    await ui.page.mouse.move(0, 0);
    await ui.page.waitForTimeout(500);
    const shot = await ui.screenshot(`workbench-${theme.name}`);
    if (process.env.GOWIDE_SCREENSHOTS === '1') {
      const dir = join(ROOT, 'docs/screenshots');
      mkdirSync(dir, { recursive: true });
      copyFileSync(shot, join(dir, `workbench-${theme.name}.png`));
    }
  }
  await chooseTheme(ui, THEMES[0]);
}
