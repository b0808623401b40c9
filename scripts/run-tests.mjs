#!/usr/bin/env node
// CI's test command. On the Node that runs it (20 in CI), turbo builds,
// typechecks, lints and tests every package once; then every package's tests run
// again on each Node of scripts/runtimes.mjs (the build is shared), links in
// the docs are checked, and scripts/compat.mjs checks docs/runtimes.md's table. The last line
// is the one CI reads: "N passed, N failed" summed over every vitest JSON report
// of every Node version and the table's checks. Any failure anywhere fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NODE_VERSIONS, runtimeBinary } from './runtimes.mjs';
import { runTurbo } from './turbo.mjs';

const root = new URL('..', import.meta.url).pathname;
const vitestCli = join(root, 'node_modules/vitest/vitest.mjs');

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

/** Sums the vitest JSON reports named `reportName` of every package. */
function countReports(packages, reportName) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const { dir, name } of packages) {
    const reportPath = join(dir, reportName);
    if (!existsSync(reportPath)) {
      console.log(`${name}: no test report ${reportName} (its build, typecheck or test run failed before reporting)`);
      totals.failed += 1;
      continue;
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    totals.passed += report.numPassedTests ?? 0;
    totals.failed += report.numFailedTests ?? 0;
    totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A test file that fails to load has no tests but must still count as a failure.
    for (const file of report.testResults ?? []) {
      if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) totals.failed += 1;
    }
  }
  return totals;
}

function reportNameFor(label) {
  return `.vitest-report-${label.toLowerCase().replace(/[^a-z0-9]+/g, '')}.json`;
}

const packages = packagesWithTests();
for (const { dir } of packages) {
  for (const file of readdirSync(dir)) if (/^\.vitest-report.*\.json$/.test(file)) rmSync(join(dir, file), { force: true });
}

const lines = [];
const totals = { passed: 0, failed: 0, skipped: 0 };
function record(label, counts, exitStatus) {
  if (exitStatus !== 0 && counts.failed === 0) counts.failed = 1;
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped ?? 0;
  lines.push(`${label}: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
}

// 1. Build, typecheck, lint and test on this Node.
const hostLabel = `Node ${process.version}`;
console.log(`\n=== ${hostLabel}: build, typecheck, lint, test`);
const turboStatus = runTurbo(['run', 'build', 'typecheck', 'lint', 'test', '--continue', '--concurrency=1', '--output-logs=new-only', ...process.argv.slice(2)]);
record(`${hostLabel} (and build, typecheck, lint)`, countReports(packages, '.vitest-report.json'), turboStatus);
const built = existsSync(join(root, 'packages/core/dist/index.cjs')) && existsSync(join(root, 'apps/examples/dist/index.js'));

// 2. The same tests, on the build above, under each other Node version.
for (const runtime of NODE_VERSIONS) {
  const reportName = reportNameFor(runtime.label);
  if (!built) {
    record(`${runtime.label}`, { passed: 0, failed: 1 }, 1);
    continue;
  }
  const binary = runtimeBinary(runtime.npmPackage);
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout.trim();
  let status = version === runtime.version ? 0 : 1;
  if (status !== 0) console.log(`${runtime.npmPackage} runs ${version}, expected ${runtime.version}`);
  for (const { dir, name } of packages) {
    console.log(`\n=== ${runtime.label} (${version}): ${name}`);
    const run = spawnSync(binary, [vitestCli, 'run'], {
      cwd: dir,
      stdio: 'inherit',
      // `node` on PATH is this version too, for tests that spawn it by name.
      env: { ...process.env, AIOLOOP_VITEST_REPORT: reportName, PATH: `${dirname(binary)}:${process.env.PATH ?? ''}` },
    });
    if (run.status !== 0) status = 1;
  }
  record(`${runtime.label} (${version})`, countReports(packages, reportName), status);
}

// 3. Links in the repository's READMEs and docs (each package's lint checks its tarball's).
const links = spawnSync(process.execPath, [join(root, 'scripts/check-links.mjs')], { cwd: root, stdio: 'inherit' });
record('links in the repository docs', { passed: links.status === 0 ? 1 : 0, failed: links.status === 0 ? 0 : 1 }, links.status ?? 1);

// 4. The Bun/Deno/Node table of docs/runtimes.md.
if (built) {
  console.log('\n=== docs/runtimes.md: the runtime table');
  const compatReport = join(root, '.compat-report.json');
  rmSync(compatReport, { force: true });
  const compat = spawnSync(process.execPath, [join(root, 'scripts/compat.mjs'), '--json', compatReport], { cwd: root, stdio: 'inherit' });
  const counts = existsSync(compatReport) ? JSON.parse(readFileSync(compatReport, 'utf8')) : { passed: 0, failed: 1 };
  rmSync(compatReport, { force: true });
  record('runtime table checks (docs/runtimes.md)', counts, compat.status ?? 1);
} else {
  record('runtime table checks (docs/runtimes.md)', { passed: 0, failed: 1 }, 1);
}

console.log('');
for (const line of lines) console.log(line);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed === 0 && turboStatus === 0 ? 0 : 1);
