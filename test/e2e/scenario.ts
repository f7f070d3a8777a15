// A scenario of the end-to-end suite: steps that run in order in one workbench, each building on the
// last, so a failing step skips the rest. Every step leaves a screenshot and says how long it took.
import { it, type TestContext } from 'node:test';
import type { Ui } from './workbench-ui';

export class Scenario {
  /** Set once the workbench is up (in `before`). */
  ui!: Ui;
  /** The step that failed, if one did. */
  failed: string | undefined;

  step(name: string, body: () => Promise<void>): void {
    it(name, async (t: TestContext) => {
      if (this.failed) {
        t.skip(`an earlier step failed: ${this.failed}`);
        return;
      }
      const started = Date.now();
      try {
        await body();
        await this.ui.screenshot(name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
      } catch (error) {
        this.failed = name;
        if (!String(error).includes('screenshot:')) await this.ui.screenshot('FAILED').catch(() => undefined);
        throw error;
      } finally {
        t.diagnostic(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      }
    });
  }
}
