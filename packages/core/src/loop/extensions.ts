import { MissingPackageError } from '../errors.js';

/**
 * Loop methods whose implementation lives in another package, and that package.
 * Until the package is imported, each of these throws a {@link MissingPackageError}
 * naming it.
 */
export const EXTENSION_METHODS: Readonly<Record<string, string>> = Object.freeze({
  getaddrinfo: '@aioloop/net',
  getnameinfo: '@aioloop/net',
  createConnection: '@aioloop/net',
  createServer: '@aioloop/net',
  createUnixConnection: '@aioloop/net',
  createUnixServer: '@aioloop/net',
  connectAcceptedSocket: '@aioloop/net',
  createDatagramEndpoint: '@aioloop/net',
  sendfile: '@aioloop/net',
  startTls: '@aioloop/net',
  connectReadPipe: '@aioloop/net',
  connectWritePipe: '@aioloop/net',
  sockRecv: '@aioloop/net',
  sockRecvInto: '@aioloop/net',
  sockRecvfrom: '@aioloop/net',
  sockRecvfromInto: '@aioloop/net',
  sockSendall: '@aioloop/net',
  sockSendto: '@aioloop/net',
  sockConnect: '@aioloop/net',
  sockAccept: '@aioloop/net',
  sockSendfile: '@aioloop/net',
  addReader: '@aioloop/net',
  removeReader: '@aioloop/net',
  addWriter: '@aioloop/net',
  removeWriter: '@aioloop/net',
  addSignalHandler: '@aioloop/signals',
  removeSignalHandler: '@aioloop/signals',
  subprocessExec: '@aioloop/subprocess',
  subprocessShell: '@aioloop/subprocess',
});

/** A method installed on the loop: `this` is the loop. */
export type LoopMethod = (this: never, ...args: never[]) => unknown;

const installedBy = new Map<string, string>();

/**
 * Adds methods to every event loop (the loop class's prototype). This is how
 * `@aioloop/net`, `@aioloop/subprocess` and `@aioloop/signals` supply their
 * loop methods, and how a third party adds its own transports. Pair it with a
 * TypeScript module augmentation of `EventLoop` so the methods are typed.
 *
 * Installing the same method twice from the same package is a no-op (a package
 * loaded as both ESM and CJS); from two different packages it throws.
 */
export function installLoopMethods(
  packageName: string,
  methods: Readonly<Record<string, LoopMethod>>,
  prototype: object,
): void {
  if (typeof packageName !== 'string' || packageName.length === 0) {
    throw new TypeError('installLoopMethods(): packageName must be a non-empty string naming the npm package');
  }
  for (const [name, method] of Object.entries(methods)) {
    if (typeof method !== 'function') {
      throw new TypeError(`installLoopMethods(): method ${name} of ${packageName} must be a function`);
    }
    const previous = installedBy.get(name);
    if (previous !== undefined && previous !== packageName) {
      throw new TypeError(`installLoopMethods(): loop.${name}() is already installed by ${previous}; ${packageName} cannot replace it`);
    }
    if (previous === undefined && !(name in EXTENSION_METHODS) && name in prototype) {
      throw new TypeError(`installLoopMethods(): loop.${name}() is a core loop method and cannot be replaced by ${packageName}`);
    }
    installedBy.set(name, packageName);
    Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
  }
}

/** The package that installed `method` on the loop, or undefined while it is missing. */
export function loopMethodProvider(method: string): string | undefined {
  return installedBy.get(method);
}

/** @internal Puts a throwing placeholder on the prototype for every extension method. */
export function installMissingMethodStubs(prototype: object): void {
  for (const [name, packageName] of Object.entries(EXTENSION_METHODS)) {
    if (Object.prototype.hasOwnProperty.call(prototype, name)) continue;
    const stub = {
      [name](): never {
        throw new MissingPackageError(name, packageName);
      },
    }[name];
    Object.defineProperty(prototype, name, { value: stub, writable: true, configurable: true, enumerable: false });
  }
}
