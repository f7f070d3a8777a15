// Driving the VS Code workbench through its UI only: the command palette, quick inputs, the Go Wide
// explorer, editors and webviews. Every wait is bounded and fails with what the screen showed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';

/** Thrown by a waitFor probe when waiting longer cannot help: the wait fails at once with it. */
export class Abort extends Error {}

export class Ui {
  private shot = 0;

  constructor(
    readonly page: Page,
    private readonly artifacts: string,
  ) {
    mkdirSync(artifacts, { recursive: true });
  }

  /** Saves NN-name.png in the artifacts folder; returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = join(this.artifacts, `${String(++this.shot).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Texts of the notification toasts and dialogs on screen (errors from commands show up here). */
  async notifications(): Promise<string[]> {
    const toasts = await this.page.locator('.notification-toast .notification-list-item-message').allInnerTexts().catch(() => []);
    const dialogs = await this.page.locator('.monaco-dialog-box .dialog-message-container').allInnerTexts().catch(() => []);
    return [...toasts, ...dialogs.map((d) => `dialog: ${d.replace(/\s+/g, ' ').trim()}`)];
  }

  /** Fails at once when the workbench says a command does not exist or threw (a dialog or an error toast). */
  async checkCommandErrors(title: string): Promise<void> {
    const deadline = Date.now() + 750;
    while (Date.now() < deadline) {
      const errors = (await this.notifications()).filter((n) => /command '.*' not found|Running the contributed command|dialog:/.test(n));
      if (errors.length > 0) {
        const shot = await this.screenshot('FAILED');
        throw new Error(`"${title}" failed in the workbench: ${errors.join(' | ')}\n  screenshot: ${shot}`);
      }
      await this.page.waitForTimeout(150);
    }
  }

  /** Polls `probe` until it returns a value other than undefined/false, or fails naming `what`. */
  async waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, describe?: () => Promise<string>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined && value !== false) return value;
      } catch (error) {
        if (error instanceof Abort) throw error;
        lastError = error;
      }
      if (Date.now() > deadline) break;
      await this.page.waitForTimeout(250);
    }
    const shot = await this.screenshot('FAILED').catch(() => '(no screenshot)');
    const notes = await this.notifications();
    const state = describe ? await describe().catch((e) => `(could not describe: ${e})`) : '';
    throw new Error(
      [
        `timed out after ${timeoutMs / 1000} s waiting for ${what}`,
        state && `state: ${state}`,
        notes.length > 0 ? `notifications: ${notes.join(' | ')}` : 'notifications: none',
        lastError ? `last error: ${String(lastError)}` : '',
        `screenshot: ${shot}`,
      ].filter(Boolean).join('\n  '),
    );
  }

  private quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  private quickInputBox() {
    return this.quickInput().locator('.quick-input-box input');
  }

  /** Labels of the rows the open quick pick shows. */
  async quickPickRows(): Promise<string[]> {
    return this.quickInput().locator('.monaco-list-row .label-name').allInnerTexts();
  }

  /** F1, type the command's title, choose the row with exactly that title. */
  async runCommand(title: string): Promise<void> {
    await this.quickOpen('F1', `>${title}`);
    await this.chooseRow(title, `the command "${title}" in the command palette`);
    await this.checkCommandErrors(title);
  }

  /** Opens the quick input with `keys` (F1: commands, Ctrl+P: files) and types `text` into it. */
  private async quickOpen(keys: string, text: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press(keys);
    await this.quickInputBox().waitFor({ state: 'visible', timeout: 10_000 });
    await this.quickInputBox().fill(text);
  }

  /** Picks the row labelled `label` in the open quick pick, filtering by typing it first. */
  async pick(label: string, title?: string): Promise<void> {
    if (title) await this.waitForQuickInputTitle(title);
    await this.quickInputBox().fill(label);
    await this.chooseRow(label, `"${label}" in the quick pick${title ? ` "${title}"` : ''}`);
  }

  private async chooseRow(label: string, what: string): Promise<void> {
    // A locator, not an index: the list re-renders while results come in, and the click re-resolves it.
    const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    const row = this.quickInput().locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exact }) }).first();
    await this.waitFor(what, async () => (await row.count()) > 0, 10_000, async () => `rows: ${JSON.stringify(await this.quickPickRows())}`);
    await row.click({ timeout: 10_000 });
  }

  private async waitForQuickInputTitle(title: string): Promise<void> {
    await this.waitFor(
      `the quick input "${title}"`,
      async () => (await this.quickInput().isVisible()) && (await this.quickInput().innerText()).includes(title),
      15_000,
      async () => ((await this.quickInput().isVisible()) ? await this.quickInput().innerText() : 'no quick input open'),
    );
  }

  /** Answers the input box titled `title` with `value` (replacing the proposed value). */
  async answer(title: string, value: string): Promise<void> {
    await this.waitForQuickInputTitle(title);
    await this.quickInputBox().fill(value);
    await this.quickInputBox().press('Enter');
  }

  /** Waits for the workbench, opens the Go Wide view container and waits for `experiment` in its explorer. */
  async openGoWideExplorer(experiment: string): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    await this.waitFor('the Go Wide activity bar item', async () => (await this.page.locator('.activitybar [aria-label^="Go Wide"]').count()) > 0, 60_000);
    await this.openActivity('Go Wide');
    const shown = Date.now();
    await this.waitFor(`the fixture experiment "${experiment}" in the Experiments explorer`, async () => {
      const tree = await this.describeTree();
      // The view says so briefly while the extension activates; still saying it 20 s later, it never will.
      if (tree.includes('no data provider registered') && Date.now() - shown > 20_000) throw new Abort(`the Experiments view has no data provider (the extension registered no tree for its view id): ${tree}`);
      return (await this.treeRows()).some((r) => r.label === experiment);
    }, 60_000, () => this.describeTree());
  }

  async openActivity(label: string): Promise<void> {
    await this.page.locator(`.activitybar [aria-label^="${label}"]`).first().click();
  }

  /** Rows of the sidebar's trees: label, description, expanded, icon codicon classes. */
  async treeRows(): Promise<TreeRow[]> {
    return this.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').evaluateAll((rows) =>
      rows.map((row) => ({
        label: (row.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (row.querySelector('.label-description')?.textContent ?? '').trim(),
        expanded: row.getAttribute('aria-expanded'),
        // The item's own icon, not the twistie's (codicon-tree-item-expanded).
        icon: [...row.querySelectorAll('.codicon')].filter((e) => !e.closest('.monaco-tl-twistie')).flatMap((e) => [...e.classList]).filter((c) => c.startsWith('codicon-')).join(' '),
        level: Number(row.getAttribute('aria-level') ?? 0),
      })),
    );
  }

  async describeTree(): Promise<string> {
    const rows = await this.treeRows();
    const messages = await this.page.locator('#workbench\\.parts\\.sidebar .message, #workbench\\.parts\\.sidebar .welcome-view-content').allInnerTexts();
    return JSON.stringify({ rows: rows.map((r) => `${'  '.repeat(Math.max(0, r.level - 1))}${r.label} [${r.description}] ${r.icon}`), messages });
  }

  treeRow(label: string | RegExp) {
    return this.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: label }) }).first();
  }

  /** Expands a collapsed tree row by its twistie (a click on the label would run the item's command). */
  async expand(label: string | RegExp, timeoutMs = 30_000): Promise<void> {
    const row = this.treeRow(label);
    await this.waitFor(`the explorer row ${label}`, async () => (await row.count()) > 0, timeoutMs, () => this.describeTree());
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.locator('.monaco-tl-twistie').click();
    await this.waitFor(`the explorer row ${label} to expand`, async () => (await row.getAttribute('aria-expanded')) === 'true', 10_000, () => this.describeTree());
  }

  async collapse(label: string | RegExp): Promise<void> {
    const row = this.treeRow(label);
    if ((await row.getAttribute('aria-expanded')) === 'true') await row.locator('.monaco-tl-twistie').click();
  }

  /** The frame of the webview whose document has `selector` (webviews are nested iframes). */
  async webview(selector: string, what: string, timeoutMs = 30_000): Promise<Frame> {
    return this.waitFor(
      what,
      async () => {
        for (const frame of this.page.frames()) {
          if (frame === this.page.mainFrame()) continue;
          if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
        }
        return undefined;
      },
      timeoutMs,
      async () => `open frames: ${this.page.frames().length}`,
    );
  }

  /** Text of the visible lines of the active editor (Monaco renders only what is on screen). */
  async editorText(): Promise<string> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    return (await editor.innerText()).replace(/\u00a0/g, ' ');
  }

  /** Opens a file of the workspace with Quick Open (Ctrl+P). */
  async openFile(name: string): Promise<void> {
    await this.quickOpen('Control+P', name);
    await this.chooseRow(name, `${name} in Quick Open`);
    await this.waitFor(`the editor of ${name}`, async () => (await this.activeTabLabel()) === name, 15_000, async () => `active tab: ${await this.activeTabLabel()}`);
  }

  /** Opens the file and puts the keyboard focus in its editor (where editor commands apply). */
  async focusEditor(name: string): Promise<void> {
    await this.openFile(name);
    await this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  }

  async activeTabLabel(): Promise<string | undefined> {
    const tab = this.page.locator('.editor-group-container.active .tab.active .monaco-icon-label-container').first();
    return (await tab.count()) > 0 ? (await tab.innerText()).replace(/\s+/g, '') : undefined;
  }

  /** Starts recording every text the status bar shows (brief states included); returns a reader. */
  async recordStatusBar(): Promise<() => Promise<string[]>> {
    // A string, not a function: tsx would wrap the named inner function in a __name() helper the page lacks.
    await this.page.evaluate(`(() => {
      window.__statusTexts = [];
      const bar = document.getElementById('workbench.parts.statusbar');
      new MutationObserver(() => window.__statusTexts.push(bar.innerText.replace(/\\s+/g, ' '))).observe(bar, { subtree: true, childList: true, characterData: true });
    })()`);
    return () => this.page.evaluate(() => (window as unknown as { __statusTexts: string[] }).__statusTexts);
  }

  async statusBarTexts(): Promise<string[]> {
    return this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').allInnerTexts();
  }
}

export interface TreeRow {
  label: string;
  description: string;
  expanded: string | null;
  icon: string;
  level: number;
}

/** Icons of the explorer mean states: spinning sync = running, pass/pass-filled = done or converged. */
export function stateOfIcon(icon: string): string {
  if (icon.includes('codicon-sync')) return 'running';
  if (icon.includes('codicon-pass')) return 'done';
  if (icon.includes('codicon-clock')) return 'queued';
  if (icon.includes('codicon-debug-pause')) return 'stopped';
  if (icon.includes('codicon-error')) return 'failed';
  return icon || 'none';
}
