import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  AI_CANONNAME,
  AI_NUMERICHOST,
  AI_NUMERICSERV,
  AI_PASSIVE,
  GaiError,
  IPPROTO_TCP,
  IPPROTO_UDP,
  NI_DGRAM,
  NI_NAMEREQD,
  NI_NUMERICHOST,
  NI_NUMERICSERV,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  _resetServicesCache,
  getaddrinfo,
  getnameinfo,
  isGaiError,
  servicesFile,
  type GetaddrinfoOptions,
} from '../src/dns.js';

const PYTHON = '/usr/bin/python3';

/** What CPython's socket.getaddrinfo returns for the same call (JSON-friendly), or its gaierror errno. */
function pythonGetaddrinfo(host: string | null, port: number | string | null, opts: GetaddrinfoOptions): unknown {
  const script = `
import json, socket, sys
a = json.loads(sys.argv[1])
try:
    r = socket.getaddrinfo(a['host'], a['port'], a.get('family', 0), a.get('type', 0), a.get('proto', 0), a.get('flags', 0))
    print(json.dumps([[int(f), int(t), p, c, list(s)] for f, t, p, c, s in r]))
except socket.gaierror as e:
    print(json.dumps({'gaierror': e.errno}))
`;
  const out = spawnSync(PYTHON, ['-c', script, JSON.stringify({ host, port, ...opts })], { encoding: 'utf8', timeout: 10_000 });
  if (out.status !== 0) throw new Error(`python3 failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

describe('getaddrinfo matches CPython socket.getaddrinfo', () => {
  const cases: [string | null, number | string | null, GetaddrinfoOptions][] = [
    ['127.0.0.1', 80, {}],
    ['::1', 8080, {}],
    ['localhost', 80, {}],
    ['localhost', 80, { type: SOCK_STREAM }],
    ['localhost', null, { type: SOCK_DGRAM }],
    ['127.0.0.1', 'http', {}],
    ['127.0.0.1', 'domain', {}],
    ['127.0.0.1', '443', {}],
    ['127.0.0.1', 0, { proto: IPPROTO_UDP }],
    ['127.0.0.1', 0, { proto: IPPROTO_TCP }],
    [null, 80, { flags: AI_PASSIVE }],
    [null, 80, {}],
    [null, 80, { family: AF_INET6, flags: AI_PASSIVE }],
    [null, 'http', { flags: AI_PASSIVE }],
    ['127.0.0.1', 80, { flags: AI_CANONNAME | AI_NUMERICHOST }],
    ['localhost', 80, { flags: AI_CANONNAME, type: SOCK_STREAM }],
    ['127.0.0.1', null, { type: SOCK_RAW }],
  ];
  for (const [host, port, opts] of cases) {
    it(`returns the same entries for (${String(host)}, ${String(port)}, ${JSON.stringify(opts)})`, async () => {
      const expected = pythonGetaddrinfo(host, port, opts);
      expect(await getaddrinfo(host, port, opts)).toEqual(expected);
    });
  }
});

describe('getaddrinfo results', () => {
  it('lists SOCK_STREAM, SOCK_DGRAM and SOCK_RAW entries per address for type 0 and a numeric port', async () => {
    const infos = await getaddrinfo('127.0.0.1', 5000);
    expect(infos.map((i) => [i[1], i[2]])).toEqual([
      [SOCK_STREAM, IPPROTO_TCP],
      [SOCK_DGRAM, IPPROTO_UDP],
      [SOCK_RAW, 0],
    ]);
  });

  it('reports IPv6 sockaddrs as [host, port, flowinfo, scopeid] and IPv4 ones as [host, port]', async () => {
    const [v6] = await getaddrinfo('::1', 9, { type: SOCK_STREAM });
    const [v4] = await getaddrinfo('127.0.0.1', 9, { type: SOCK_STREAM });
    expect(v6).toEqual([AF_INET6, SOCK_STREAM, IPPROTO_TCP, '', ['::1', 9, 0, 0]]);
    expect(v4).toEqual([AF_INET, SOCK_STREAM, IPPROTO_TCP, '', ['127.0.0.1', 9]]);
  });

  it('turns an IPv6 zone name into the interface index (lo is 1)', async () => {
    const [info] = await getaddrinfo('fe80::1%lo', 9, { type: SOCK_STREAM });
    expect(info?.[4]).toEqual(['fe80::1', 9, 0, 1]);
  });

  it('gives the wildcard addresses for a null host with AI_PASSIVE and loopback without it', async () => {
    const passive = await getaddrinfo(null, 1234, { type: SOCK_STREAM, flags: AI_PASSIVE });
    const active = await getaddrinfo(null, 1234, { type: SOCK_STREAM });
    expect(passive.map((i) => i[4][0])).toEqual(['0.0.0.0', '::']);
    expect(active.map((i) => i[4][0])).toEqual(['::1', '127.0.0.1']);
  });

  it('keeps only the family asked for', async () => {
    const infos = await getaddrinfo(null, 1, { family: AF_INET, type: SOCK_STREAM });
    expect(infos).toEqual([[AF_INET, SOCK_STREAM, IPPROTO_TCP, '', ['127.0.0.1', 1]]]);
  });

  it('resolves a name from /etc/hosts through Node (localhost -> 127.0.0.1)', async () => {
    const infos = await getaddrinfo('localhost', 7, { family: AF_INET, type: SOCK_STREAM });
    expect(infos).toEqual([[AF_INET, SOCK_STREAM, IPPROTO_TCP, '', ['127.0.0.1', 7]]]);
  });

  it('puts the canonical name only in the first entry with AI_CANONNAME', async () => {
    const infos = await getaddrinfo('127.0.0.1', 7, { flags: AI_CANONNAME });
    expect(infos.map((i) => i[3])).toEqual(['127.0.0.1', '', '']);
  });
});

describe('getaddrinfo errors (socket.gaierror)', () => {
  async function gaiCode(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e,
    );
    expect(isGaiError(error)).toBe(true);
    return (error as { code: string }).code;
  }

  it('rejects an unknown service name with EAI_SERVICE', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 'no-such-service-xyz'))).toBe('EAI_SERVICE');
  });

  it('rejects a TCP-only service for SOCK_DGRAM with EAI_SERVICE, as glibc', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 'http', { type: SOCK_DGRAM }))).toBe('EAI_SERVICE');
  });

  it('rejects a non-numeric host with AI_NUMERICHOST as ENOTFOUND without any lookup', async () => {
    expect(await gaiCode(getaddrinfo('localhost', 80, { flags: AI_NUMERICHOST }))).toBe('ENOTFOUND');
  });

  it('rejects a service name with AI_NUMERICSERV as ENOTFOUND', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 'http', { flags: AI_NUMERICSERV }))).toBe('ENOTFOUND');
  });

  it('rejects an empty host name as ENOTFOUND', async () => {
    expect(await gaiCode(getaddrinfo('', 80))).toBe('ENOTFOUND');
  });

  it('rejects an IPv4 address asked as AF_INET6 with EAI_ADDRFAMILY', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 80, { family: AF_INET6 }))).toBe('EAI_ADDRFAMILY');
  });

  it('rejects AF_UNIX with EAI_FAMILY', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 80, { family: AF_UNIX }))).toBe('EAI_FAMILY');
  });

  it('rejects SOCK_STREAM with IPPROTO_UDP with EAI_SOCKTYPE', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 80, { type: SOCK_STREAM, proto: IPPROTO_UDP }))).toBe('EAI_SOCKTYPE');
  });

  it('rejects unknown AI_ flags with EAI_BADFLAGS', async () => {
    expect(await gaiCode(getaddrinfo('127.0.0.1', 80, { flags: 0x10000 }))).toBe('EAI_BADFLAGS');
  });

  it('is a GaiError carrying syscall and hostname', async () => {
    const error = await getaddrinfo('x', 80, { flags: AI_NUMERICHOST }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GaiError);
    expect(error).toMatchObject({ syscall: 'getaddrinfo', hostname: 'x', code: 'ENOTFOUND' });
  });
});

describe('getaddrinfo argument checks', () => {
  it('rejects a non-string host naming the argument', async () => {
    await expect(getaddrinfo(42 as unknown as string, 80)).rejects.toThrow(/host must be a string/);
  });

  it('rejects ports outside 0-65535 and non-integer ports', async () => {
    await expect(getaddrinfo('127.0.0.1', 70000)).rejects.toThrow(RangeError);
    await expect(getaddrinfo('127.0.0.1', -1)).rejects.toThrow(/port must be an integer 0-65535/);
    await expect(getaddrinfo('127.0.0.1', 1.5)).rejects.toThrow(/port must be an integer 0-65535/);
    await expect(getaddrinfo('127.0.0.1', {} as unknown as number)).rejects.toThrow(/port must be an integer 0-65535, a service name/);
  });

  it('rejects non-integer family, type, proto and flags naming them', async () => {
    await expect(getaddrinfo('127.0.0.1', 80, { family: 'inet' as unknown as number })).rejects.toThrow(/family must be/);
    await expect(getaddrinfo('127.0.0.1', 80, { type: -1 })).rejects.toThrow(/type must be/);
    await expect(getaddrinfo('127.0.0.1', 80, { proto: 1.5 })).rejects.toThrow(/proto must be/);
    await expect(getaddrinfo('127.0.0.1', 80, { flags: null as unknown as number })).resolves.toHaveLength(3);
  });
});

describe('service names without /etc/services', () => {
  const saved = servicesFile.path;
  afterEach(() => {
    servicesFile.path = saved;
    _resetServicesCache();
  });

  it('explains that the services file is missing and numeric ports still work', async () => {
    servicesFile.path = '/nonexistent/services';
    _resetServicesCache();
    await expect(getaddrinfo('127.0.0.1', 'http')).rejects.toThrow(/\/nonexistent\/services is missing; pass a port number/);
    await expect(getaddrinfo('127.0.0.1', 80, { type: SOCK_STREAM })).resolves.toHaveLength(1);
  });

  it('reads names and aliases from the services file in use', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aioloop-services-'));
    try {
      const file = join(dir, 'services');
      writeFileSync(file, '# test\nmyproto\t4242/tcp\tmp-alias # comment\nmyproto\t4243/udp\n');
      servicesFile.path = file;
      _resetServicesCache();
      const infos = await getaddrinfo('127.0.0.1', 'mp-alias');
      expect(infos.map((i) => [i[1], i[4][1]])).toEqual([[SOCK_STREAM, 4242]]);
      const both = await getaddrinfo('127.0.0.1', 'myproto');
      expect(both.map((i) => [i[1], i[4][1]])).toEqual([
        [SOCK_STREAM, 4242],
        [SOCK_DGRAM, 4243],
      ]);
      expect(await getnameinfo(['127.0.0.1', 4243], NI_DGRAM | NI_NUMERICHOST)).toEqual(['127.0.0.1', 'myproto']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('getnameinfo', () => {
  it('returns the numeric host and the service name with NI_NUMERICHOST', async () => {
    expect(await getnameinfo(['127.0.0.1', 80], NI_NUMERICHOST)).toEqual(['127.0.0.1', 'http']);
  });

  it('returns the numeric port with NI_NUMERICSERV', async () => {
    expect(await getnameinfo(['127.0.0.1', 80], NI_NUMERICHOST | NI_NUMERICSERV)).toEqual(['127.0.0.1', '80']);
  });

  it('reverse-resolves 127.0.0.1 to localhost from /etc/hosts, as CPython does', async () => {
    const out = spawnSync(PYTHON, ['-c', "import socket; print(socket.getnameinfo(('127.0.0.1', 64999), 0)[0])"], { encoding: 'utf8' });
    expect(await getnameinfo(['127.0.0.1', 64999])).toEqual([out.stdout.trim(), '64999']);
  });

  it('looks the service up as UDP with NI_DGRAM', async () => {
    expect(await getnameinfo(['127.0.0.1', 53], NI_NUMERICHOST | NI_DGRAM)).toEqual(['127.0.0.1', 'domain']);
  });

  it('returns an address without a name numerically, and rejects it with NI_NAMEREQD', async () => {
    // ::1 has no entry in this machine's /etc/hosts (CPython also returns '::1').
    const out = spawnSync(PYTHON, ['-c', "import socket; print(socket.getnameinfo(('::1', 80, 0, 0), 0)[0])"], { encoding: 'utf8' });
    const [host, service] = await getnameinfo(['::1', 80, 0, 0]);
    expect([host, service]).toEqual([out.stdout.trim(), 'http']);
    if (host === '::1') {
      const error = await getnameinfo(['::1', 80], NI_NAMEREQD).catch((e: unknown) => e);
      expect(isGaiError(error)).toBe(true);
    }
  });

  it('rejects a host name instead of an address with ENOTFOUND, as CPython', async () => {
    await expect(getnameinfo(['localhost', 80])).rejects.toMatchObject({ code: 'ENOTFOUND', syscall: 'getnameinfo' });
  });

  it('rejects malformed sockaddrs naming what is accepted', async () => {
    await expect(getnameinfo(['127.0.0.1'])).rejects.toThrow(/sockaddr must be \[host, port\]/);
    await expect(getnameinfo(['127.0.0.1', 80, 0, 0])).rejects.toThrow(/IPv4 sockaddr must be \[host, port\]/);
    await expect(getnameinfo(['127.0.0.1', 70000])).rejects.toThrow(/port\) must be an integer 0-65535/);
    await expect(getnameinfo([1, 80])).rejects.toThrow(/host\) must be a string/);
    await expect(getnameinfo(['127.0.0.1', 80], -1)).rejects.toThrow(/flags must be/);
  });
});

describe('loop.getaddrinfo / loop.getnameinfo', () => {
  it('are installed by importing @aioloop/net and return Futures of the loop', async () => {
    await import('../src/index.js');
    const { EventLoop, isFuture } = await import('@aioloop/core');
    const loop = new EventLoop({ debug: false });
    try {
      const result = await loop.runUntilComplete(async () => {
        const pending = loop.getaddrinfo('127.0.0.1', 'http', { type: SOCK_STREAM });
        expect(isFuture(pending)).toBe(true);
        const infos = await pending;
        const name = await loop.getnameinfo(['127.0.0.1', 22], NI_NUMERICHOST);
        const failure = await loop.getaddrinfo('127.0.0.1', 'no-such-service-xyz').then(
          () => null,
          (e: unknown) => e,
        );
        return { infos, name, failure };
      });
      expect(result.infos).toEqual([[AF_INET, SOCK_STREAM, IPPROTO_TCP, '', ['127.0.0.1', 80]]]);
      expect(result.name).toEqual(['127.0.0.1', 'ssh']);
      expect(result.failure).toMatchObject({ code: 'EAI_SERVICE' });
    } finally {
      loop.close();
    }
  });
});
