/**
 * Test certificates made with the openssl CLI in a temp dir (nothing
 * committed): a CA, a server certificate for 'localhost' and 127.0.0.1 signed
 * by it, and a second CA nobody trusts with its own 'localhost' certificate.
 * Plus helpers to run openssl and Python peers by pid with bounded waits.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
  /** A certificate for 'localhost' from a CA that no test trusts. */
  untrustedCertFile: string;
  untrustedKeyFile: string;
  untrustedCert: string;
  untrustedKey: string;
}

let pki: TestPki | null = null;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`], dir);
}

function makeLeaf(dir: string, ca: string, name: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
}

/** The certificates (made once per test file, removed at exit). */
export function testPki(): TestPki {
  if (pki !== null) return pki;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aioloop-tls-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  makeCa(dir, 'ca');
  makeLeaf(dir, 'ca', 'server');
  makeCa(dir, 'rogue-ca');
  makeLeaf(dir, 'rogue-ca', 'rogue');
  const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
  pki = {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    certFile: path.join(dir, 'server.pem'),
    keyFile: path.join(dir, 'server.key'),
    ca: read('ca.pem'),
    cert: read('server.pem'),
    key: read('server.key'),
    untrustedCertFile: path.join(dir, 'rogue.pem'),
    untrustedKeyFile: path.join(dir, 'rogue.key'),
    untrustedCert: read('rogue.pem'),
    untrustedKey: read('rogue.key'),
  };
  return pki;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A child process with its output collected; killed by pid at cleanup. */
export interface Peer {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output contains `text` (rejects after `seconds`). */
  waitFor(text: string | RegExp, seconds?: number): Promise<void>;
  /** Resolves with the exit code (rejects after `seconds`). */
  exited(seconds?: number): Promise<number | null>;
  kill(): void;
}

export function startPeer(command: string, args: string[], cwd?: string): Peer {
  const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('latin1')));
  const matches = (text: string | RegExp): boolean => (typeof text === 'string' ? out.includes(text) : text.test(out));
  return {
    child,
    output: () => out,
    waitFor(text, seconds = 20) {
      return new Promise((resolve, reject) => {
        if (matches(text)) return resolve();
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`peer did not print ${String(text)} within ${seconds} s; output so far:\n${out}`));
        }, seconds * 1000);
        const check = (): void => {
          if (matches(text)) {
            cleanup();
            resolve();
          }
        };
        const onExit = (): void => {
          setImmediate(() => {
            if (matches(text)) return;
            cleanup();
            reject(new Error(`peer exited before printing ${String(text)}; output:\n${out}`));
          });
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.on('exit', onExit);
      });
    },
    exited(seconds = 20) {
      return new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => reject(new Error(`peer did not exit within ${seconds} s; output:\n${out}`)), seconds * 1000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    },
  };
}
