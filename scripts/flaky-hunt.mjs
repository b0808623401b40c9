#!/usr/bin/env node
/**
 * Flakiness hunt: runs every package's vitest suite RUNS times in a row (Node in
 * PATH) with a CPU hog (one busy-looping child per HOGS) beside it, and prints
 * one line per run and a summary of every test that failed at least once.
 *   node scripts/flaky-hunt.mjs [RUNS=10] [HOGS=1]
 * Build first (`npm test` does; or turbo run build): some tests load dist/.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? 10);
const hogs = Number(process.argv[3] ?? 1);
// Every workspace package with a vitest config, so a new package is hunted too.
const dirs = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`))
  .filter((d) => existsSync(join(root, d, 'vitest.config.ts')))
  .sort();

const hogProcs = Array.from({ length: hogs }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
let running = null;
process.on('SIGTERM', () => {
  for (const hog of hogProcs) hog.kill('SIGKILL');
  if (running !== null) process.kill(-running.pid, 'SIGTERM'); // its own process group
  process.exit(143);
});
const failures = new Map();
try {
  for (let run = 1; run <= runs; run++) {
    const started = Date.now();
    let passed = 0;
    let failed = 0;
    for (const dir of dirs) {
      const report = join(root, dir, '.flaky-hunt.json');
      rmSync(report, { force: true });
      await new Promise((resolve) => {
        // vitest.shared.ts names the JSON report after AIOLOOP_VITEST_REPORT.
        const child = spawn('npx', ['vitest', 'run'], { cwd: join(root, dir), stdio: 'ignore', detached: true, env: { ...process.env, AIOLOOP_VITEST_REPORT: report } });
        running = child;
        child.on('close', resolve);
      });
      running = null;
      if (!existsSync(report)) {
        failed++;
        const key = `${dir}: (no report: the run crashed or timed out)`;
        failures.set(key, [...(failures.get(key) ?? []), run]);
        continue;
      }
      const json = JSON.parse(readFileSync(report, 'utf8'));
      for (const file of json.testResults) {
        if (file.status === 'failed' && file.assertionResults.every((t) => t.status !== 'failed')) {
          failed++;
          const key = `${dir}/${file.name.slice(join(root, dir).length + 1)}: ${String(file.message).split('\n')[0]}`;
          failures.set(key, [...(failures.get(key) ?? []), run]);
        }
        for (const t of file.assertionResults) {
          if (t.status === 'passed') passed++;
          else if (t.status === 'failed') {
            failed++;
            const key = `${dir}/${file.name.slice(join(root, dir).length + 1)} > ${t.fullName}`;
            failures.set(key, [...(failures.get(key) ?? []), run]);
          }
        }
      }
      rmSync(report, { force: true });
    }
    console.log(`run ${run}/${runs}: ${passed} passed, ${failed} failed, ${Math.round((Date.now() - started) / 1000)} s`);
    for (const [name, which] of failures) if (which.includes(run)) console.log(`  failed: ${name}`);
  }
} finally {
  for (const hog of hogProcs) hog.kill('SIGKILL');
}
console.log(failures.size === 0 ? 'no test failed in any run' : 'failed at least once:');
for (const [name, which] of failures) console.log(`  ${name} (runs ${which.join(', ')})`);
process.exitCode = failures.size === 0 ? 0 : 1;
