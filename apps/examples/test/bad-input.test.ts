/**
 * docs/bad-input.md, row by row, and the public surface against it.
 *
 * Each row of the package tables is a call here: it throws (or rejects) with
 * the row's error class and exact message. A row without a call, or a call
 * without a row, fails. Each call names the public function it covers; the
 * surface is enumerated at run time (test/surface.ts) and every public
 * function that takes arguments needs a row or an entry in the doc's
 * "Accepts anything" list, every one that takes none is listed under "Takes no
 * arguments". A new public function without either fails this test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BufferedReadBinding,
  DatagramProtocol,
  EventLoop,
  Future,
  LoopBridge,
  Protocol,
  ReadPipeTransport,
  ReadableStreamTransport,
  StreamReaderProtocol,
  StreamTransport,
  SubprocessProtocol,
  Task,
  TaskGroup,
  ThreadPoolExecutor,
  ProcessPoolExecutor,
  Timeout,
  TlsTransport,
  WritePipeTransport,
  allTasks,
  asCompleted,
  checkProtocol,
  connectLoopBridge,
  createTask,
  currentTask,
  defaultThreadWorkers,
  ensureFuture,
  gather,
  installLoopMethods,
  setLogger,
  shield,
  sleep,
  staggeredRace,
  timeout,
  timeoutAt,
  toBytes,
  wait,
  waitFor,
  workerFunction,
  wrapFuture,
  type DatagramTransport,
  type WriteTransport,
} from '@aioloop/core';
import {
  Socket,
  connectAcceptedSocket as netConnectAcceptedSocket,
  connectReadPipe as netConnectReadPipe,
  connectSocket,
  connectToAddresses,
  connectWritePipe as netConnectWritePipe,
  createConnection as netCreateConnection,
  createDatagramEndpoint as netCreateDatagramEndpoint,
  createServer as netCreateServer,
  createUnixConnection as netCreateUnixConnection,
  createUnixServer as netCreateUnixServer,
  getaddrinfo,
  getnameinfo,
  interleaveAddrinfos,
  sendfile as netSendfile,
  socket,
  socketpair,
  startTls as netStartTls,
  wrapSocket,
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
  type Server,
} from '@aioloop/net';
import {
  StreamReader,
  createSubprocessExec,
  createSubprocessShell,
  type Process,
  type SubprocessPipesTransport,
} from '@aioloop/subprocess';
import { installGracefulShutdown, signalName, signalNumber } from '@aioloop/signals';
import { DefaultEventLoopPolicy, Runner, run, setEventLoop, setEventLoopPolicy } from '@aioloop/policy';
import {
  MemoryDatagramTransport,
  MemoryStreamTransport,
  MockTransport,
  RecordingBufferedProtocol,
  RecordingDatagramProtocol,
  RecordingProtocol,
  SeededRandom,
  SimulatedNetwork,
  TestLoop,
  TestLoopPolicy,
  assertCalls,
  assertConnectionLostOnce,
  assertEvents,
  assertReceived,
  assertWritten,
  createDatagramPair,
  createStreamPair,
  formatEvent,
  immediateLink,
  installTestLoopPolicy,
  previewBytes,
  systemError,
  type SimHost,
} from '@aioloop/testing';
import { binding } from '@aioloop/native-sockets';
import { enumerateSurface, type SurfaceEntry } from './surface.js';

const loop = new EventLoop();
const cb = (): void => {};
const f = (): Protocol => new Protocol();
const host = '127.0.0.1';

// Live objects whose methods the rows call; made in beforeAll, closed in afterAll.
let someTask: Task<void>;
let executor: ThreadPoolExecutor;
let bridge: LoopBridge;
let server: Server;
let tlsServer: Server;
let tcp: StreamTransport;
let tls: TlsTransport;
let sa: Socket;
let sb: Socket;
let udp: DatagramTransport;
let subTransport: SubprocessPipesTransport;
let stdinPipe: WriteTransport;
let proc: Process;
let memA: MemoryStreamTransport;
let memB: MemoryStreamTransport;
let dgA: MemoryDatagramTransport;
let dgB: MemoryDatagramTransport;
let simnet: SimulatedNetwork;
let simA: SimHost;

/** A throwaway certificate for 'localhost' (openssl, in a temp dir removed at once). */
function selfSignedCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'aioloop-bad-input-'));
  try {
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost'];
    args.push('-addext', 'subjectAltName=DNS:localhost', '-keyout', 'key.pem', '-out', 'cert.pem');
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 30_000 });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const reader = (): StreamReader => new StreamReader({ loop });

/** A function of the native binding, to call with arguments of the wrong type. */
const native = (name: keyof typeof binding): ((...args: unknown[]) => unknown) => binding[name] as unknown as (...args: unknown[]) => unknown;

/**
 * Runs `start(done)` and rejects with what the call passed to `done` threw: a call
 * that only works inside a body (a TaskGroup's, a timeout scope's) is tried there.
 */
async function inBody(start: (done: (call: () => unknown) => void) => PromiseLike<unknown>): Promise<void> {
  let error: unknown = null;
  await start((call) => {
    try {
      call();
    } catch (e) {
      error = e;
    }
  });
  if (error !== null) throw error;
}

function withTestLoop(body: (t: TestLoop) => unknown): unknown {
  const t = new TestLoop();
  try {
    return body(t);
  } finally {
    t.close();
  }
}

beforeAll(async () => {
  await loop.runUntilComplete(async () => {
    someTask = loop.createTask(async () => {});
    await someTask;
    executor = new ThreadPoolExecutor({ maxWorkers: 1 });
    bridge = loop.createThreadsafeBridge({});
    server = await loop.createServer(f, host, 0);
    const port = (server.sockets[0]!.getsockname() as [string, number])[1];
    [tcp] = (await loop.createConnection(f, host, port)) as unknown as [StreamTransport, Protocol];
    const { cert, key } = selfSignedCertificate();
    tlsServer = await loop.createServer(f, host, 0, { ssl: { cert, key } });
    const tlsPort = (tlsServer.sockets[0]!.getsockname() as [string, number])[1];
    [tls] = (await loop.createConnection(f, host, tlsPort, { ssl: { ca: cert }, serverHostname: 'localhost' })) as unknown as [TlsTransport, Protocol];
    [sa, sb] = socketpair();
    sa.setblocking(false);
    [udp] = await loop.createDatagramEndpoint(() => new DatagramProtocol(), { localAddr: [host, 0] });
    [subTransport] = await loop.subprocessExec(() => new SubprocessProtocol(), '/bin/cat');
    stdinPipe = subTransport.getPipeTransport(0) as WriteTransport;
    proc = await createSubprocessExec('/bin/cat', [], { stdin: 'pipe', stdout: 'pipe' });
    [[memA], [memB]] = await createStreamPair(loop, f, f);
    [[dgA], [dgB]] = await createDatagramPair(loop, () => new DatagramProtocol(), () => new DatagramProtocol());
    simnet = new SimulatedNetwork(loop);
    simA = simnet.host('a');
    simnet.host('b');
  });
});

afterAll(async () => {
  await loop.runUntilComplete(async () => {
    tcp.close();
    tls.abort();
    tlsServer.close();
    await tlsServer.waitClosed();
    sa.close();
    sb.close();
    udp.close();
    memA.close();
    memB.close();
    dgA.close();
    dgB.close();
    subTransport.close();
    proc.kill();
    await proc.wait();
    server.close();
    await server.waitClosed();
    bridge.close();
    await executor.shutdown();
    await sleep(0.01);
  });
  loop.close();
});

/** The calls of the tables, by the text of their first column: [the surface key it covers, the call]. */
const calls: Record<string, [string, () => unknown]> = {
  // ---- @aioloop/core: EventLoop
  'new EventLoop("x")': ['new EventLoop', () => new EventLoop('x' as never)],
  'loop.callSoon(42)': ['EventLoop.callSoon', () => loop.callSoon(42 as never)],
  'loop.callSoonThreadsafe(null)': ['EventLoop.callSoonThreadsafe', () => loop.callSoonThreadsafe(null as never)],
  'loop.callLater(NaN, cb)': ['EventLoop.callLater', () => loop.callLater(NaN, cb)],
  "loop.callLater('1', cb)": ['EventLoop.callLater', () => loop.callLater('1' as never, cb)],
  'loop.callLater(1, null)': ['EventLoop.callLater', () => loop.callLater(1, null as never)],
  'loop.callAt(NaN, cb)': ['EventLoop.callAt', () => loop.callAt(NaN, cb)],
  'loop.runUntilComplete(5)': ['EventLoop.runUntilComplete', () => loop.runUntilComplete(5 as never)],
  'loop.trackAsyncgen(5)': ['EventLoop.trackAsyncgen', () => loop.trackAsyncgen(5 as never)],
  'loop.shutdownDefaultExecutor("x")': ['EventLoop.shutdownDefaultExecutor', () => loop.shutdownDefaultExecutor('x' as never)],
  'loop.createTask(promise)': ['EventLoop.createTask', () => loop.createTask(Promise.resolve() as never)],
  'loop.createTask(fn, { name: 5 })': ['EventLoop.createTask', () => loop.createTask(async () => {}, { name: 5 } as never)],
  'loop.createTask(fn, { nme: "x" })': ['EventLoop.createTask', () => loop.createTask(async () => {}, { nme: 'x' } as never)],
  'loop.setTaskFactory(5)': ['EventLoop.setTaskFactory', () => loop.setTaskFactory(5 as never)],
  'loop.setExceptionHandler(5)': ['EventLoop.setExceptionHandler', () => loop.setExceptionHandler(5 as never)],
  'loop.defaultExceptionHandler(5)': ['EventLoop.defaultExceptionHandler', () => loop.defaultExceptionHandler(5 as never)],
  'loop.callExceptionHandler({})': ['EventLoop.callExceptionHandler', () => loop.callExceptionHandler({} as never)],
  'loop.setDebug("yes")': ['EventLoop.setDebug', () => loop.setDebug('yes' as never)],
  'loop.runInExecutor(null, 5)': ['EventLoop.runInExecutor', () => loop.runInExecutor(null, 5 as never)],
  'loop.setDefaultExecutor(5)': ['EventLoop.setDefaultExecutor', () => loop.setDefaultExecutor(5 as never)],
  'loop.createThreadsafeBridge(5)': ['EventLoop.createThreadsafeBridge', () => loop.createThreadsafeBridge(5 as never)],
  // ---- core: Handle, Future, Task
  'new Future(5)': ['new Future', () => new Future(5 as never)],
  'future.cancel(5)': ['Future.cancel', () => new Future(loop).cancel(5 as never)],
  'new Future(loop).setResult(1) twice': ['Future.setResult', () => { const future = new Future<number>(loop); future.setResult(1); future.setResult(2); }],
  'new Future(loop).result() while pending': ['Future.result', () => new Future(loop).result()],
  'future.setException("str")': ['Future.setException', () => new Future(loop).setException('str' as never)],
  'future.addDoneCallback(5)': ['Future.addDoneCallback', () => new Future(loop).addDoneCallback(5 as never)],
  'new Task(5)': ['new Task', () => new Task(5 as never)],
  'task.setName(5)': ['Task.setName', () => someTask.setName(5 as never)],
  'task.cancel(5)': ['Task.cancel', () => someTask.cancel(5 as never)],
  'task.setResult(1)': ['Task.setResult', () => someTask.setResult(1 as never)],
  'task.setException(new Error())': ['Task.setException', () => someTask.setException(new Error('x'))],
  'allTasks(5)': ['allTasks', () => allTasks(5 as never)],
  'currentTask(5)': ['currentTask', () => currentTask(5 as never)],
  'createTask(5)': ['createTask', () => createTask(5 as never)],
  'setLogger(5)': ['setLogger', () => setLogger(5 as never)],
  // ---- core: helpers
  "sleep('1')": ['sleep', () => sleep('1' as never)],
  'ensureFuture(5)': ['ensureFuture', () => ensureFuture(5 as never)],
  'ensureFuture(p, 5)': ['ensureFuture', () => ensureFuture(Promise.resolve(), 5 as never)],
  'wrapFuture(5)': ['wrapFuture', () => wrapFuture(5 as never)],
  'gather(5)': ['gather', () => gather(5 as never)],
  'shield(5)': ['shield', () => shield(5 as never)],
  'wait(5)': ['wait', () => wait(5 as never)],
  'wait([f], { returnWhen: "x" })': ['wait', () => wait([new Future(loop)], { returnWhen: 'x' } as never)],
  'waitFor(p, "x")': ['waitFor', () => waitFor(Promise.resolve() as never, 'x' as never)],
  'new Timeout("x")': ['new Timeout', () => new Timeout('x' as never)],
  'scope.reschedule("x") in the body of timeout(null, fn)': ['Timeout.reschedule', () => inBody((done) => timeout(null, async (scope) => done(() => scope.reschedule('x' as never))))],
  'timeout("x")': ['timeout', () => timeout('x' as never)],
  'timeout(1, 5)': ['timeout', () => timeout(1, 5 as never)],
  'timeoutAt("x")': ['timeoutAt', () => timeoutAt('x' as never)],
  'TaskGroup.run(5)': ['TaskGroup.run', () => TaskGroup.run(5 as never)],
  'tg.createTask(5) in the body of TaskGroup.run': ['TaskGroup.createTask', () => inBody((done) => TaskGroup.run(async (tg) => done(() => tg.createTask(5 as never))))],
  'asCompleted(5)': ['asCompleted', () => asCompleted(5 as never)],
  'asCompleted([], { timout: 1 })': ['asCompleted', () => asCompleted([], { timout: 1 } as never)],
  'staggeredRace(5, null)': ['staggeredRace', () => staggeredRace(5 as never, null)],
  'staggeredRace([], "x")': ['staggeredRace', () => staggeredRace([], 'x' as never)],
  // ---- core: executors
  'defaultThreadWorkers(-1)': ['defaultThreadWorkers', () => defaultThreadWorkers(-1)],
  'new ThreadPoolExecutor({ maxWorkers: 0 })': ['new ThreadPoolExecutor', () => new ThreadPoolExecutor({ maxWorkers: 0 })],
  'new ThreadPoolExecutor({ max_workers: 2 })': ['new ThreadPoolExecutor', () => new ThreadPoolExecutor({ max_workers: 2 } as never)],
  'new ProcessPoolExecutor({ maxWorkers: 0 })': ['new ProcessPoolExecutor', () => new ProcessPoolExecutor({ maxWorkers: 0 })],
  'executor.submit(5)': ['WorkerPoolExecutor.submit', () => executor.submit(5 as never, [])],
  'workerFunction(5)': ['workerFunction', () => workerFunction(5 as never)],
  // ---- core: loop extension, bridge
  'installLoopMethods("", {}, proto)': ['installLoopMethods', () => installLoopMethods('', {}, {})],
  'connectLoopBridge(5)': ['connectLoopBridge', () => connectLoopBridge(5 as never)],
  // ---- core: transports
  'transport.setProtocol(5)': ['AbstractTransport.setProtocol', () => tcp.setProtocol(5 as never)],
  'transport.setWriteBufferLimits(10, 20)': ['FlowControlTransport.setWriteBufferLimits', () => tcp.setWriteBufferLimits(10, 20)],
  'transport.setWriteBufferLimits("x")': ['FlowControlTransport.setWriteBufferLimits', () => tcp.setWriteBufferLimits('x' as never)],
  'toBytes(5)': ['toBytes', () => toBytes(5)],
  'checkProtocol({}, "here")': ['checkProtocol', () => checkProtocol({}, 'here')],
  'new ReadableStreamTransport(loop, 5)': ['new ReadableStreamTransport', () => new (ReadableStreamTransport as never as new (l: unknown, p: unknown) => unknown)(loop, 5)],
  'new StreamTransport(loop, 5, p)': ['new StreamTransport', () => new StreamTransport(loop, 5 as never, new Protocol())],
  'tcpTransport.write(5)': ['DuplexStreamTransport.write', () => tcp.write(5 as never)],
  'tcpTransport.writelines(5)': ['DuplexStreamTransport.writelines', () => tcp.writelines(5 as never)],
  'new BufferedReadBinding(-1)': ['new BufferedReadBinding', () => new BufferedReadBinding(-1)],
  'new ReadPipeTransport(loop, null, p)': ['new ReadPipeTransport', () => new ReadPipeTransport(loop, null as never, new Protocol())],
  'new WritePipeTransport(loop, null, p)': ['new WritePipeTransport', () => new WritePipeTransport(loop, null as never, new Protocol())],
  'pipeTransport.write(5)': ['WritePipeTransport.write', () => stdinPipe.write(5 as never)],
  'pipeTransport.writelines(5)': ['WritePipeTransport.writelines', () => stdinPipe.writelines(5 as never)],
  'tlsTransport.write(5)': ['DuplexStreamTransport.write', () => tls.write(5 as never)],
  'tlsTransport.writelines(5)': ['DuplexStreamTransport.writelines', () => tls.writelines(5 as never)],
  // ---- @aioloop/net: loop methods
  'loop.getaddrinfo(5, 80)': ['EventLoop.getaddrinfo', () => loop.getaddrinfo(5 as never, 80)],
  'loop.getnameinfo(5)': ['EventLoop.getnameinfo', () => loop.getnameinfo(5 as never)],
  'loop.createServer("nope", host, 0)': ['EventLoop.createServer', () => loop.createServer('nope' as never, host, 0)],
  'loop.createServer(f, host, 0, { backlog: -1 })': ['EventLoop.createServer', () => loop.createServer(f, host, 0, { backlog: -1 })],
  'loop.createConnection(f, host, 70000)': ['EventLoop.createConnection', () => loop.createConnection(f, host, 70000)],
  'loop.createUnixServer(f, "")': ['EventLoop.createUnixServer', () => loop.createUnixServer(f, '')],
  'loop.createUnixConnection(f, 5)': ['EventLoop.createUnixConnection', () => loop.createUnixConnection(f, 5 as never)],
  'loop.connectAcceptedSocket(f, 5)': ['EventLoop.connectAcceptedSocket', () => loop.connectAcceptedSocket(f, 5 as never)],
  'loop.createDatagramEndpoint(f, { local_addr: x })': ['EventLoop.createDatagramEndpoint', () => loop.createDatagramEndpoint(f as never, { local_addr: [host, 0] } as never)],
  'loop.sendfile(transport, "x")': ['EventLoop.sendfile', () => loop.sendfile(tcp as never, 'x' as never)],
  'loop.startTls(5, p, {})': ['EventLoop.startTls', () => loop.startTls(5 as never, new Protocol(), {} as never)],
  'loop.connectReadPipe(f, -1)': ['EventLoop.connectReadPipe', () => loop.connectReadPipe(f, -1)],
  'loop.connectWritePipe(f, "x")': ['EventLoop.connectWritePipe', () => loop.connectWritePipe(f, 'x' as never)],
  'loop.sockRecv(5, 10)': ['EventLoop.sockRecv', () => loop.sockRecv(5 as never, 10)],
  'loop.sockRecv(sock, -1)': ['EventLoop.sockRecv', () => loop.sockRecv(sa, -1)],
  'loop.sockRecvInto(sock, 5)': ['EventLoop.sockRecvInto', () => loop.sockRecvInto(sa, 5 as never)],
  'loop.sockRecvfrom(sock, "x")': ['EventLoop.sockRecvfrom', () => loop.sockRecvfrom(sa, 'x' as never)],
  'loop.sockRecvfromInto(sock, 5)': ['EventLoop.sockRecvfromInto', () => loop.sockRecvfromInto(sa, 5 as never)],
  'loop.sockSendall(sock, 5)': ['EventLoop.sockSendall', () => loop.sockSendall(sa, 5 as never)],
  'loop.sockSendto(sock, 5, addr)': ['EventLoop.sockSendto', () => loop.sockSendto(sa, 5 as never, [host, 9])],
  'loop.sockConnect(sock, 5)': ['EventLoop.sockConnect', () => loop.sockConnect(sa, 5 as never)],
  'loop.sockAccept(5)': ['EventLoop.sockAccept', () => loop.sockAccept(5 as never)],
  'loop.sockSendfile(sock, "x")': ['EventLoop.sockSendfile', () => loop.sockSendfile(sa, 'x' as never)],
  'loop.addReader("x", cb)': ['EventLoop.addReader', () => loop.addReader('x' as never, cb)],
  'loop.removeReader("x")': ['EventLoop.removeReader', () => loop.removeReader('x' as never)],
  'loop.addWriter(-1, cb)': ['EventLoop.addWriter', () => loop.addWriter(-1, cb)],
  'loop.removeWriter(null)': ['EventLoop.removeWriter', () => loop.removeWriter(null as never)],
  // ---- net: functions
  'getaddrinfo(5, 80)': ['getaddrinfo', () => getaddrinfo(5 as never, 80)],
  'startServer("nope", host, 0)': ['startServer', () => startServer('nope' as never, host, 0)],
  'openConnection(host, 8888, { limit: 0 })': ['openConnection', () => openConnection(host, 8888, { limit: 0 })],
  'openConnection(host, 8888)': ['openConnection', () => openConnection(host, 8888)],
  'openUnixConnection(5)': ['openUnixConnection', () => openUnixConnection(5 as never)],
  'startUnixServer(cb, "/tmp/x", { lmit: 1 })': ['startUnixServer', () => startUnixServer(cb, '/tmp/x', { lmit: 1 } as never)],
  'getnameinfo(5)': ['getnameinfo', () => getnameinfo(5 as never)],
  'createServer(5, f, host, 0)': ['createServer', () => netCreateServer(5 as never, f, host, 0)],
  'createConnection(5, f, host, 80)': ['createConnection', () => netCreateConnection(5 as never, f, host, 80)],
  'createUnixConnection(loop, f, 5)': ['createUnixConnection', () => netCreateUnixConnection(loop, f, 5 as never)],
  'createUnixServer(loop, f, 5)': ['createUnixServer', () => netCreateUnixServer(loop, f, 5 as never)],
  'connectAcceptedSocket(loop, f, 5)': ['connectAcceptedSocket', () => netConnectAcceptedSocket(loop, f, 5 as never)],
  'wrapSocket(loop, 5, p)': ['wrapSocket', () => wrapSocket(loop, 5 as never, new Protocol())],
  'createDatagramEndpoint(loop, 5)': ['createDatagramEndpoint', () => netCreateDatagramEndpoint(loop, 5 as never)],
  'startTls(loop, 5, p, {})': ['startTls', () => netStartTls(loop, 5 as never, new Protocol(), {} as never)],
  'sendfile(5, transport, file)': ['sendfile', () => netSendfile(5 as never, tcp as never, 'x' as never)],
  'interleaveAddrinfos(5)': ['interleaveAddrinfos', () => interleaveAddrinfos(5 as never)],
  'connectSocket(loop, host, 70000)': ['connectSocket', () => connectSocket(loop, host, 70000)],
  'connectToAddresses(loop, 5)': ['connectToAddresses', () => connectToAddresses(loop, 5 as never)],
  'connectReadPipe(5, f, pipe)': ['connectReadPipe', () => netConnectReadPipe(5 as never, f, 0)],
  'connectWritePipe(5, f, pipe)': ['connectWritePipe', () => netConnectWritePipe(5 as never, f, 1)],
  // ---- net: native Socket
  'new Socket("x")': ['new Socket', () => new Socket('x' as never)],
  'socket("x")': ['socket', () => socket('x' as never)],
  'socketpair("x")': ['socketpair', () => socketpair('x' as never)],
  'Socket.fromFd(-1, AF_INET, SOCK_STREAM)': ['Socket.fromFd', () => Socket.fromFd(-1, 2, 1)],
  'sock.setblocking("x")': ['Socket.setblocking', () => sa.setblocking('x' as never)],
  'sock.bind(5)': ['Socket.bind', () => sa.bind(5 as never)],
  'sock.listen("x")': ['Socket.listen', () => sa.listen('x' as never)],
  'sock.connect(5)': ['Socket.connect', () => sa.connect(5 as never)],
  'sock.recv(-1)': ['Socket.recv', () => sa.recv(-1)],
  'sock.recvInto(5)': ['Socket.recvInto', () => sa.recvInto(5 as never)],
  'sock.recvfrom("x")': ['Socket.recvfrom', () => sa.recvfrom('x' as never)],
  'sock.recvfromInto(5)': ['Socket.recvfromInto', () => sa.recvfromInto(5 as never)],
  'sock.send(5)': ['Socket.send', () => sa.send(5 as never)],
  'sock.sendall(5)': ['Socket.sendall', () => sa.sendall(5 as never)],
  'sock.sendto(5, addr)': ['Socket.sendto', () => sa.sendto(5 as never, [host, 9])],
  'sock.shutdown("x")': ['Socket.shutdown', () => sa.shutdown('x' as never)],
  'sock.setsockopt("x", 1, 1)': ['Socket.setsockopt', () => sa.setsockopt('x' as never, 1, 1)],
  'sock.getsockopt("x", 1)': ['Socket.getsockopt', () => sa.getsockopt('x' as never, 1)],
  // ---- net: datagram, server
  'udpTransport.sendto(5)': ['DatagramTransportBase.sendto', () => udp.sendto(5 as never, [host, 9])],
  // ---- @aioloop/native-sockets: the binding (fd-level; every function checks its argument types)
  'binding.socket("x")': ['binding.socket', () => native('socket')('x')],
  'binding.socketpair("x")': ['binding.socketpair', () => native('socketpair')('x')],
  'binding.setblocking("x")': ['binding.setblocking', () => native('setblocking')('x')],
  'binding.getblocking("x")': ['binding.getblocking', () => native('getblocking')('x')],
  'binding.bind("x")': ['binding.bind', () => native('bind')('x')],
  'binding.connect("x")': ['binding.connect', () => native('connect')('x')],
  'binding.listen("x")': ['binding.listen', () => native('listen')('x')],
  'binding.accept("x")': ['binding.accept', () => native('accept')('x')],
  'binding.recv("x")': ['binding.recv', () => native('recv')('x')],
  'binding.recvfrom("x")': ['binding.recvfrom', () => native('recvfrom')('x')],
  'binding.send("x")': ['binding.send', () => native('send')('x')],
  'binding.sendto("x")': ['binding.sendto', () => native('sendto')('x')],
  'binding.shutdown("x")': ['binding.shutdown', () => native('shutdown')('x')],
  'binding.getsockname("x")': ['binding.getsockname', () => native('getsockname')('x')],
  'binding.getpeername("x")': ['binding.getpeername', () => native('getpeername')('x')],
  'binding.setsockopt("x")': ['binding.setsockopt', () => native('setsockopt')('x')],
  'binding.getsockopt("x")': ['binding.getsockopt', () => native('getsockopt')('x')],
  'binding.close("x")': ['binding.close', () => native('close')('x')],
  'binding.dup("x")': ['binding.dup', () => native('dup')('x')],
  'binding.sockinfo("x")': ['binding.sockinfo', () => native('sockinfo')('x')],
  'binding.fdstat("x")': ['binding.fdstat', () => native('fdstat')('x')],
  'binding.sendfile("x")': ['binding.sendfile', () => native('sendfile')('x')],
  'binding.recvmmsg("x")': ['binding.recvmmsg', () => native('recvmmsg')('x')],
  'binding.decodeSockaddr("x")': ['binding.decodeSockaddr', () => native('decodeSockaddr')('x')],
  'binding.lseek("x")': ['binding.lseek', () => native('lseek')('x')],
  'binding.gaiStrerror("x")': ['binding.gaiStrerror', () => native('gaiStrerror')('x')],
  'new binding.Poll("x", cb, false)': ['new binding.Poll', () => new binding.Poll('x' as never, cb, false)],
  // ---- @aioloop/subprocess
  'loop.subprocessExec(f, 42)': ['EventLoop.subprocessExec', () => loop.subprocessExec(f as never, 42 as never)],
  'loop.subprocessShell(f, "")': ['EventLoop.subprocessShell', () => loop.subprocessShell(f as never, '')],
  'subprocessTransport.getPipeTransport(3)': ['SubprocessPipesTransport.getPipeTransport', () => subTransport.getPipeTransport(3 as never)],
  'subprocessTransport.sendSignal("SIGNOPE")': ['SubprocessPipesTransport.sendSignal', () => subTransport.sendSignal('SIGNOPE' as never)],
  'process.sendSignal("SIGNOPE")': ['Process.sendSignal', () => proc.sendSignal('SIGNOPE' as never)],
  'process.communicate(5)': ['Process.communicate', () => proc.communicate(5 as never)],
  'new StreamReader({ loop, limit: 0 })': ['new StreamReader', () => new StreamReader({ loop, limit: 0 })],
  'new StreamReader({ loop, limt: 1 })': ['new StreamReader', () => new StreamReader({ loop, limt: 1 } as never)],
  'new StreamReader({ limit: 1 })': ['new StreamReader', () => new StreamReader({ limit: 1 } as never)],
  'new StreamReaderProtocol(5)': ['new StreamReaderProtocol', () => new StreamReaderProtocol(5 as never)],
  'reader.feedData(5)': ['StreamReader.feedData', () => reader().feedData(5 as never)],
  'reader.read("x")': ['StreamReader.read', () => reader().read('x' as never)],
  'reader.readexactly(-1)': ['StreamReader.readexactly', () => reader().readexactly(-1)],
  'reader.readuntil("")': ['StreamReader.readuntil', () => reader().readuntil('')],
  'writer.write(5)': ['StreamWriter.write', () => proc.stdin!.write(5 as never)],
  'writer.writelines(5)': ['StreamWriter.writelines', () => proc.stdin!.writelines(5 as never)],
  'createSubprocessExec(5)': ['createSubprocessExec', () => createSubprocessExec(5 as never)],
  'createSubprocessShell(5)': ['createSubprocessShell', () => createSubprocessShell(5 as never)],
  // ---- @aioloop/signals
  'loop.addSignalHandler("SIGNOPE", cb)': ['EventLoop.addSignalHandler', () => loop.addSignalHandler('SIGNOPE' as never, cb)],
  'loop.addSignalHandler("SIGKILL", cb)': ['EventLoop.addSignalHandler', () => loop.addSignalHandler('SIGKILL', cb)],
  'loop.removeSignalHandler("SIGNOPE")': ['EventLoop.removeSignalHandler', () => loop.removeSignalHandler('SIGNOPE' as never)],
  'signalName("SIGNOPE")': ['signalName', () => signalName('SIGNOPE' as never)],
  'signalNumber(5.5)': ['signalNumber', () => signalNumber(5.5)],
  'installGracefulShutdown(loop, { signal: ["SIGINT"] })': ['installGracefulShutdown', () => installGracefulShutdown(loop, { signal: ['SIGINT'] } as never)],
  // ---- @aioloop/policy
  'policy.setEventLoop(5)': ['DefaultEventLoopPolicy.setEventLoop', () => new DefaultEventLoopPolicy().setEventLoop(5 as never)],
  'setEventLoop(5)': ['setEventLoop', () => setEventLoop(5 as never)],
  'setEventLoopPolicy(5)': ['setEventLoopPolicy', () => setEventLoopPolicy(5 as never)],
  'new Runner({ debg: true })': ['new Runner', () => new Runner({ debg: true } as never)],
  'runner.run(5)': ['Runner.run', () => { const runner = new Runner(); try { return runner.run(5 as never); } finally { runner.close(); } }],
  'run(main())': ['run', () => run((async () => {})() as never)],
  'run(main, { debg: true })': ['run', () => run(async () => {}, { debg: true } as never)],
  // ---- @aioloop/testing
  'new TestLoop({ autoAdvanse: true })': ['new TestLoop', () => new TestLoop({ autoAdvanse: true } as never).close()],
  'testLoop.setAutoAdvance("x")': ['TestLoop.setAutoAdvance', () => withTestLoop((t) => t.setAutoAdvance('x' as never))],
  'new TestLoop().advance(-1)': ['TestLoop.advance', () => { const testLoop = new TestLoop(); return testLoop.advance(-1).finally(() => testLoop.close()); }],
  'new RecordingProtocol({ nam: "x" })': ['new RecordingProtocol', () => new RecordingProtocol({ nam: 'x' } as never)],
  'recorder.count("nope")': ['Recorder.count', () => new RecordingProtocol().count('nope' as never)],
  'recorder.first("nope")': ['Recorder.first', () => new RecordingProtocol().first('nope' as never)],
  'recorder.waitFor(5)': ['Recorder.waitFor', () => new RecordingProtocol({ loop }).waitFor(5 as never)],
  'new RecordingBufferedProtocol({ bufferSize: 0 })': ['new RecordingBufferedProtocol', () => new RecordingBufferedProtocol({ bufferSize: 0 })],
  'new RecordingDatagramProtocol({ nam: "x" })': ['new RecordingDatagramProtocol', () => new RecordingDatagramProtocol({ nam: 'x' } as never)],
  'formatEvent(5)': ['formatEvent', () => formatEvent(5 as never)],
  'previewBytes(5)': ['previewBytes', () => previewBytes(5 as never)],
  'new MockTransport({ protocl: p })': ['new MockTransport', () => new MockTransport({ protocl: new Protocol() } as never)],
  'mock.connect(5)': ['MockTransport.connect', () => new MockTransport().connect(5 as never)],
  'mock.receive(5)': ['MockTransport.receive', () => new MockTransport({ protocol: new Protocol() }).receive(5 as never)],
  'mock.loseConnection(5)': ['MockTransport.loseConnection', () => new MockTransport({ protocol: new Protocol() }).loseConnection(5 as never)],
  'mock.setWriteBufferSize(-1)': ['MockTransport.setWriteBufferSize', () => new MockTransport().setWriteBufferSize(-1)],
  'mock.write(5)': ['MockTransport.write', () => new MockTransport().write(5 as never)],
  'mock.writelines(5)': ['MockTransport.writelines', () => new MockTransport().writelines(5 as never)],
  'mock.setWriteBufferLimits(10, 20)': ['MockTransport.setWriteBufferLimits', () => new MockTransport().setWriteBufferLimits(10, 20)],
  'mock.setProtocol(5)': ['MockTransport.setProtocol', () => new MockTransport().setProtocol(5 as never)],
  'assertCalls(5, [])': ['assertCalls', () => assertCalls(5 as never, [])],
  'assertConnectionLostOnce(5)': ['assertConnectionLostOnce', () => assertConnectionLostOnce(5 as never)],
  'assertEvents(5, [])': ['assertEvents', () => assertEvents(5 as never, [])],
  'assertReceived(5, "")': ['assertReceived', () => assertReceived(5 as never, '')],
  'assertWritten(5, "")': ['assertWritten', () => assertWritten(5 as never, '')],
  'memoryTransport.write(5)': ['MemoryStreamTransport.write', () => memA.write(5 as never)],
  'memoryTransport.writelines(5)': ['MemoryStreamTransport.writelines', () => memA.writelines(5 as never)],
  'createStreamPair(loop, 5, f)': ['createStreamPair', () => createStreamPair(loop, 5 as never, f)],
  'immediateLink(5)': ['immediateLink', () => immediateLink(5 as never)],
  'systemError(5)': ['systemError', () => systemError(5 as never, 'x')],
  'memoryDatagram.sendto(5)': ['MemoryDatagramTransport.sendto', () => dgA.sendto(5 as never, ['b', 1])],
  'createDatagramPair(loop, 5, f)': ['createDatagramPair', () => createDatagramPair(loop, 5 as never, f as never)],
  'new SeededRandom(1.5)': ['new SeededRandom', () => new SeededRandom(1.5)],
  'random.chance(2)': ['SeededRandom.chance', () => new SeededRandom(1).chance(2)],
  'random.int(2, 1)': ['SeededRandom.int', () => new SeededRandom(1).int(2, 1)],
  'simHost.createConnection(5, "b", 80)': ['SimHost.createConnection', () => simA.createConnection(5 as never, 'b', 80)],
  'simHost.createServer(f, "a", 70000)': ['SimHost.createServer', () => simA.createServer(f, 'a', 70000)],
  'simHost.createDatagramEndpoint(f, { bogus: 1 })': ['SimHost.createDatagramEndpoint', () => simA.createDatagramEndpoint(f as never, { bogus: 1 } as never)],
  'new SimulatedNetwork(loop, { latncy: 1 })': ['new SimulatedNetwork', () => new SimulatedNetwork(loop, { latncy: 1 } as never)],
  'simnet.host("")': ['SimulatedNetwork.host', () => simnet.host('')],
  'simnet.setLink("a", "b", { loss: 2 })': ['SimulatedNetwork.setLink', () => simnet.setLink('a', 'b', { loss: 2 })],
  'simnet.partition(5, [])': ['SimulatedNetwork.partition', () => simnet.partition(5 as never, [])],
  'simnet.hostDown(5)': ['SimulatedNetwork.hostDown', () => simnet.hostDown(5 as never)],
  'simnet.hostUp(5)': ['SimulatedNetwork.hostUp', () => simnet.hostUp(5 as never)],
  'simnet.reachable(5, "b")': ['SimulatedNetwork.reachable', () => simnet.reachable(5 as never, 'b')],
  'simnet.reset(5)': ['SimulatedNetwork.reset', () => simnet.reset(5 as never)],
  'new TestLoopPolicy({ autoAdvanse: true })': ['new TestLoopPolicy', () => new TestLoopPolicy({ autoAdvanse: true } as never)],
  'testLoopPolicy.setEventLoop(5)': ['TestLoopPolicy.setEventLoop', () => new TestLoopPolicy().setEventLoop(5 as never)],
  'installTestLoopPolicy({ autoAdvanse: true })': ['installTestLoopPolicy', () => installTestLoopPolicy({ autoAdvanse: true } as never)],
};

/** Rows called outside the running loop (they run a loop themselves); the others run inside a task on `loop`. */
const outsideLoop = new Set(['openConnection(host, 8888)', 'new StreamReader({ limit: 1 })', 'loop.runUntilComplete(5)', 'runner.run(5)', 'run(main())', 'run(main, { debg: true })', 'new TestLoop().advance(-1)']);

interface Row {
  call: string;
  mode: 'throws' | 'rejects';
  errorClass: string;
  message: string;
}

interface Outcome {
  mode: 'throws' | 'rejects' | 'returns';
  error: unknown;
}

/** What a call did: threw, returned a promise or Future that rejected (or was still pending after 1 s), or returned. */
async function outcome(call: () => unknown): Promise<Outcome> {
  let returned: unknown;
  try {
    returned = call();
  } catch (e) {
    return { mode: 'throws', error: e };
  }
  if (returned !== null && typeof returned === 'object' && typeof (returned as PromiseLike<unknown>).then === 'function') {
    let timer: NodeJS.Timeout | undefined;
    const pending = new Promise((resolve) => (timer = setTimeout(resolve, 1000, 'still pending after 1 s')));
    const error = await Promise.race([Promise.resolve(returned).then(() => null, (e: unknown) => e), pending]);
    clearTimeout(timer);
    if (error !== null && error !== 'still pending after 1 s') return { mode: 'rejects', error };
  }
  return { mode: 'returns', error: null };
}

async function run_(text: string): Promise<Outcome> {
  const call = calls[text]![1];
  if (outsideLoop.has(text)) return outcome(call);
  return loop.runUntilComplete(() => outcome(call));
}

const doc = readFileSync(fileURLToPath(new URL('../../../docs/bad-input.md', import.meta.url)), 'utf8');
const rows: Row[] = [];
/** Keys listed under "## Takes no arguments" and after "Covers:" under "## Without a row". */
const noArguments = new Set<string>();
const withoutRow = new Set<string>();
let section = '';
for (const line of doc.split('\n')) {
  if (line.startsWith('## ')) section = line;
  const m = /^\| `(.+?)` \| (throws|rejects) \| `(\w+)` \| (.*) \|$/.exec(line);
  if (m) rows.push({ call: m[1]!, mode: m[2] as Row['mode'], errorClass: m[3]!, message: m[4]!.replace(/\\\|/g, '|') });
  if (!line.startsWith('- ')) continue;
  if (section === '## Takes no arguments') for (const k of line.matchAll(/`([^`]+)`/g)) noArguments.add(k[1]!);
  if (section === '## Without a row') for (const k of line.slice(line.indexOf('Covers:')).matchAll(/`([^`]+)`/g)) withoutRow.add(k[1]!);
}

/** What is wrong with the doc's coverage of `surface`: one line per problem (empty when complete). */
function coverageProblems(surface: readonly SurfaceEntry[]): string[] {
  const byKey = new Map(surface.map((e) => [e.key, e]));
  const documented = new Set(rows.map((r) => r.call));
  const withRow = new Set(Object.entries(calls).filter(([text]) => documented.has(text)).map(([, [key]]) => key));
  const problems: string[] = [];
  for (const e of surface) {
    const listed = withRow.has(e.key) || withoutRow.has(e.key) || noArguments.has(e.key);
    if (!listed) problems.push(`${e.key} (${e.pkg}, parameters: ${e.params || 'none'}) has no row and is not listed`);
  }
  for (const key of withoutRow) {
    const e = byKey.get(key);
    if (!e) problems.push(`"Without a row" lists ${key}, which is not public`);
    else if (e.params === '') problems.push(`"Without a row" lists ${key}, which takes no arguments`);
    else if (withRow.has(key)) problems.push(`"Without a row" lists ${key}, which has a row`);
  }
  for (const key of noArguments) {
    const e = byKey.get(key);
    if (!e) problems.push(`"Takes no arguments" lists ${key}, which is not public`);
    else if (e.params !== '') problems.push(`"Takes no arguments" lists ${key}, which takes (${e.params})`);
  }
  for (const [text, [key]] of Object.entries(calls)) {
    if (!byKey.has(key)) problems.push(`the call ${text} covers ${key}, which is not public`);
  }
  return problems;
}

describe('docs/bad-input.md', () => {
  it('has a row for every call tested here and a call for every row', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.call).sort()).toEqual(Object.keys(calls).sort());
  });

  it.each(rows)('$call $mode $errorClass', async (row) => {
    expect(calls[row.call], `no call for the row ${row.call}`).toBeDefined();
    const { mode, error } = await run_(row.call);
    expect(mode, `${row.call}: expected it to ${row.mode}`).toBe(row.mode);
    expect((error as Error).constructor.name).toBe(row.errorClass);
    expect((error as Error).message).toBe(row.message);
  });
});

describe('the public surface against docs/bad-input.md', () => {
  const surface = enumerateSurface();

  it('sees every package, the installed loop methods and the native binding', () => {
    const pkgs = new Set(surface.map((e) => e.pkg));
    expect([...pkgs].sort()).toEqual(['@aioloop/core', '@aioloop/native-sockets', '@aioloop/net', '@aioloop/policy', '@aioloop/signals', '@aioloop/subprocess', '@aioloop/testing']);
    const pkgOf = (key: string): string | undefined => surface.find((e) => e.key === key)?.pkg;
    expect(pkgOf('EventLoop.createConnection')).toBe('@aioloop/net');
    expect(pkgOf('EventLoop.subprocessExec')).toBe('@aioloop/subprocess');
    expect(pkgOf('EventLoop.addSignalHandler')).toBe('@aioloop/signals');
    expect(pkgOf('binding.socket')).toBe('@aioloop/native-sockets');
    // Private, protected and @internal members are not public; default and rest parameters count.
    expect(pkgOf('EventLoop._callSoon')).toBeUndefined();
    expect(pkgOf('EventLoop.onPromiseWrapped')).toBeUndefined();
    expect(surface.find((e) => e.key === 'gather')?.params).toBe('...args');
    expect(surface.find((e) => e.key === 'socket')?.params).not.toBe('');
  });

  it('every public function has a row, or is listed with its reason, or takes no arguments', () => {
    expect(coverageProblems(surface)).toEqual([]);
  });

  it('a public function added without a row fails the check', () => {
    const added: SurfaceEntry = { key: 'openSomething', pkg: '@aioloop/core', fn: () => {}, params: 'host, port, options = {}' };
    expect(coverageProblems([...surface, added])).toEqual(['openSomething (@aioloop/core, parameters: host, port, options = {}) has no row and is not listed']);
    const noArgs: SurfaceEntry = { key: 'Server.newMethod', pkg: '@aioloop/net', fn: () => {}, params: '' };
    expect(coverageProblems([...surface, noArgs])).toEqual(['Server.newMethod (@aioloop/net, parameters: none) has no row and is not listed']);
  });
});
