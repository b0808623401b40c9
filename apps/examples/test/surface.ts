/**
 * The public surface of the aioloop packages, enumerated at run time: every
 * function and class each package's index exports, every method of those
 * classes (own methods of each class on the prototype chain, and static
 * methods), the loop methods the packages install on EventLoop, and the
 * functions of exported plain objects (native-sockets' `binding`). Names that
 * start with `_` are private by convention and left out.
 *
 * Each entry has a key: `name` for a function, `new Name` for a constructor,
 * `Class.method` for a method and `Class.method` for a static method too (a
 * class has no static and instance method of the same name here; checked).
 * Keys do not name the package, so moving a class between packages (re-exported
 * from the old one) keeps its rows valid.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as core from '@aioloop/core';
import * as nativeSockets from '@aioloop/native-sockets';
import * as net from '@aioloop/net';
import * as policy from '@aioloop/policy';
import * as signals from '@aioloop/signals';
import * as subprocess from '@aioloop/subprocess';
import * as testing from '@aioloop/testing';

/** The packages, in the order their exports are attributed (first export wins). */
export const packages: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['@aioloop/core', core],
  ['@aioloop/net', net],
  ['@aioloop/native-sockets', nativeSockets],
  ['@aioloop/subprocess', subprocess],
  ['@aioloop/signals', signals],
  ['@aioloop/policy', policy],
  ['@aioloop/testing', testing],
];

export interface SurfaceEntry {
  /** `sleep`, `new Future`, `Future.setResult`, `TaskGroup.run`, `binding.socket`. */
  key: string;
  /** The package that exports it (for an installed loop method: the package that installed it). */
  pkg: string;
  fn: Function;
  /** The parameter list as written (`''` when it takes none). */
  params: string;
}

function isClass(fn: Function): boolean {
  return /^class\b/.test(Function.prototype.toString.call(fn));
}

/** The text between the parentheses starting at `open`, balanced. */
function balanced(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return source.slice(open + 1, i).trim();
    }
  }
  throw new Error(`unbalanced parameter list in ${source.slice(0, 80)}`);
}

/** A function's parameter list as source text: `''` when it declares none (fn.length misses defaults and rest). */
export function paramsOf(fn: Function): string {
  const source = Function.prototype.toString.call(fn);
  if (isClass(fn)) {
    const m = /\bconstructor\s*\(/.exec(source);
    if (m) return balanced(source, m.index + m[0].length - 1);
    const parent = Object.getPrototypeOf(fn) as Function;
    return parent === Function.prototype || parent === Error || parent === Promise ? '' : paramsOf(parent);
  }
  // A native function's parameters cannot be read: count it as taking some (it needs a row).
  if (source.includes('[native code]')) return '(native)';
  const arrow = /^(?:async\s*)?(\w+)\s*=>/.exec(source);
  if (arrow) return arrow[1]!;
  return balanced(source, source.indexOf('('));
}

const stopAt = new Set<unknown>([Object.prototype, Function.prototype, Error.prototype, Promise.prototype, null]);

function methodsOf(target: object): string[] {
  return Object.getOwnPropertyNames(target).filter((name) => {
    if (name === 'constructor' || name.startsWith('_')) return false;
    const d = Object.getOwnPropertyDescriptor(target, name)!;
    return typeof d.value === 'function';
  });
}

const packagesDir = fileURLToPath(new URL('../../../packages/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [join(dir, d.name)] : [],
  );
}

function isHidden(node: ts.Node): boolean {
  const mods = ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : [];
  if (mods.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword)) return true;
  if (ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node)) {
    if (node.name && ts.isPrivateIdentifier(node.name)) return true;
  }
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal');
}

/**
 * Keys the TypeScript sources mark as not public: `private`/`protected`
 * members and anything tagged `@internal` (read from the sources' syntax: the
 * runtime cannot tell them apart from public methods).
 */
export function hiddenKeys(): Set<string> {
  const hidden = new Set<string>();
  for (const pkg of readdirSync(packagesDir)) {
    let files: string[];
    try {
      files = sourceFiles(join(packagesDir, pkg, 'src'));
    } catch {
      continue;
    }
    for (const file of files) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (ts.isClassDeclaration(node) && node.name) {
          const cls = node.name.text;
          if (isHidden(node)) hidden.add(`new ${cls}`);
          for (const member of node.members) {
            if (!isHidden(member)) continue;
            if (ts.isConstructorDeclaration(member)) hidden.add(`new ${cls}`);
            else if (member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) hidden.add(`${cls}.${member.name.text}`);
          }
        } else if (ts.isFunctionDeclaration(node) && node.name && isHidden(node)) {
          hidden.add(node.name.text);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
  }
  return hidden;
}

/** Enumerates the surface; throws if two different functions would get the same key. */
export function enumerateSurface(): SurfaceEntry[] {
  const byKey = new Map<string, SurfaceEntry>();
  const seen = new Set<unknown>();
  const add = (key: string, pkg: string, fn: Function): void => {
    const old = byKey.get(key);
    if (old && old.fn !== fn) throw new Error(`two public functions have the key ${key} (${old.pkg} and ${pkg}): give one a qualified key`);
    if (!old) byKey.set(key, { key, pkg, fn, params: paramsOf(fn) });
  };
  const addClass = (cls: Function, pkg: string): void => {
    if (seen.has(cls)) return;
    seen.add(cls);
    add(`new ${cls.name}`, pkg, cls);
    for (const name of methodsOf(cls)) {
      if (['length', 'name', 'prototype'].includes(name)) continue;
      const fn = (cls as unknown as Record<string, Function>)[name]!;
      add(`${cls.name}.${name}`, pkg, fn);
    }
    // Own methods of each class up the chain (a parent that is not exported itself included).
    for (let proto = cls.prototype as object | null; !stopAt.has(proto); proto = Object.getPrototypeOf(proto) as object | null) {
      if (seen.has(proto)) continue;
      seen.add(proto);
      const owner = (proto as { constructor: Function }).constructor;
      for (const name of methodsOf(proto!)) {
        const fn = (proto as Record<string, Function>)[name]!;
        const installer = owner === core.EventLoop ? core.loopMethodProvider(name) : undefined;
        add(`${owner.name}.${name}`, installer ?? pkg, fn);
      }
    }
  };
  for (const [pkg, exports] of packages) {
    for (const [name, value] of Object.entries(exports)) {
      if (seen.has(value)) continue;
      if (typeof value === 'function') {
        if (isClass(value)) addClass(value, pkg);
        else {
          seen.add(value);
          add(name, pkg, value);
        }
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype) {
        // A namespace object of functions (native-sockets' binding).
        for (const [member, fn] of Object.entries(value)) {
          if (typeof fn !== 'function' || seen.has(fn)) continue;
          seen.add(fn);
          if (/^[A-Z]/.test(member)) add(`new ${name}.${member}`, pkg, fn);
          else add(`${name}.${member}`, pkg, fn);
        }
      }
    }
  }
  const hidden = hiddenKeys();
  return [...byKey.values()].filter((entry) => !hidden.has(entry.key));
}
