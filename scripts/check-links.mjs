#!/usr/bin/env node
// Relative links in Markdown must resolve where the file is read.
//
//   node ../../scripts/check-links.mjs --package   (in a package: its lint) every .md the
//       package publishes (`npm pack --dry-run`) links only to files in the same tarball,
//       or absolutely (https://...): npm and node_modules have nothing else.
//   node scripts/check-links.mjs                    (in the repository root) every README
//       and doc of the repository links to files that exist in it.
// Either way nothing may point at the ../shared folder users do not have.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** The link targets of a Markdown text, outside fenced code blocks. */
export function markdownLinks(text) {
  const links = [];
  let fenced = false;
  for (const [index, line] of text.split('\n').entries()) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const withoutCode = line.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: index + 1, target: match[1] });
    }
  }
  return links;
}

function isExternal(target) {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');
}

/** Problems of one Markdown file; `exists(relPath)` says whether a path (file or folder) is there. */
function checkFile(file, text, exists) {
  const problems = [];
  if (/(^|[^\w])\.\.\/shared\b|\/work\/shared\b|\bshared\/spec\b/.test(text)) problems.push(`${file}: mentions the shared folder, which users do not have`);
  for (const { line, target } of markdownLinks(text)) {
    if (isExternal(target)) continue;
    const path = normalize(join(dirname(file), decodeURIComponent(target.split('#')[0])));
    if (path.startsWith('..')) problems.push(`${file}:${line}: ${target} leaves the ${exists.scope}; link it absolutely (https://github.com/aioloop/aioloop/...)`);
    else if (!exists(path)) problems.push(`${file}:${line}: ${target} is not in the ${exists.scope}`);
  }
  return problems;
}

function checkPackage(dir) {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const files = pack.files.map((f) => normalize(f.path));
  const exists = (path) => path === '.' || files.includes(path) || files.some((f) => f.startsWith(`${path}/`));
  exists.scope = `published tarball of ${pack.name}`;
  const problems = [];
  let checked = 0;
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    problems.push(...checkFile(file, readFileSync(join(dir, file), 'utf8'), exists));
    checked += 1;
  }
  return { checked, problems };
}

function repositoryMarkdown(root) {
  const skip = new Set(['node_modules', 'dist', '.git', '.turbo', '.changeset']);
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (skip.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(relative(root, path));
    }
  };
  walk(root);
  return found;
}

function checkRepository(root) {
  const exists = (path) => existsSync(join(root, path));
  exists.scope = 'repository';
  const problems = [];
  const files = repositoryMarkdown(root);
  for (const file of files) problems.push(...checkFile(file, readFileSync(join(root, file), 'utf8'), exists));
  return { checked: files.length, problems };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const root = new URL('..', import.meta.url).pathname;
  const { checked, problems } = process.argv.includes('--package') ? checkPackage(process.cwd()) : checkRepository(root);
  for (const problem of problems) console.error(problem);
  console.log(`check-links: ${checked} Markdown files, ${problems.length} broken links`);
  process.exit(problems.length === 0 ? 0 : 1);
}
