#!/usr/bin/env node
// Runs turbo (through the pinned pnpm) with its telemetry and update check off,
// so `npm run demo` on a fresh machine neither prints turbo's telemetry notice
// nor reports anything. Usage: node scripts/turbo.mjs run build ...
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PNPM = ['-y', 'pnpm@10.34.9'];

/** The environment every turbo run of the project gets. */
export function quietTurboEnv(env = process.env) {
  return { ...env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };
}

/** Runs `turbo <args>` in the repository root; returns its exit status. */
export function runTurbo(args, options = {}) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = spawnSync('npx', [...PNPM, 'exec', 'turbo', ...args], { cwd: root, stdio: 'inherit', env: quietTurboEnv(), ...options });
  return result.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit(runTurbo(process.argv.slice(2)));
}
