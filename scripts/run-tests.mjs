#!/usr/bin/env node
// Runs every package's build, typecheck and tests through turbo, then prints the
// one line CI reads: "N passed, N failed" summed over every package's vitest
// JSON report. Exits with turbo's exit code (non-zero if anything failed).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pnpm = ['-y', 'pnpm@10.34.9'];

function packagesWithTests() {
  const dirs = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const dir = join(base, name);
      const manifest = join(dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      const testDir = join(dir, 'test');
      const hasTests = existsSync(testDir) && readdirSync(testDir, { recursive: true }).some((f) => String(f).endsWith('.test.ts'));
      if (pkg.scripts?.test && hasTests) dirs.push({ dir, name: pkg.name });
    }
  }
  return dirs;
}

const packages = packagesWithTests();
for (const { dir } of packages) rmSync(join(dir, '.vitest-report.json'), { force: true });

const turbo = spawnSync(
  'npx',
  [...pnpm, 'exec', 'turbo', 'run', 'build', 'typecheck', 'lint', 'test', '--continue', '--concurrency=1', '--output-logs=new-only', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const { dir, name } of packages) {
  const reportPath = join(dir, '.vitest-report.json');
  if (!existsSync(reportPath)) {
    console.log(`${name}: no test report (its build, typecheck or test run failed before reporting)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A test file that fails to load has no tests but must still count as a failure.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
}
const status = turbo.status ?? 1;
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status);
