// One echo server in its own process: `node server.mjs transport|sock`.
//   transport: loop.createServer(() => new Echo()) — core's stream transport over Node's net
//   sock:      sockAccept + a task per connection doing sockRecv / sockSendall on native sockets
// Prints the port; answers 'cpu' on stdin with process.cpuUsage() as JSON.
import { EventLoop, Protocol } from '../../packages/core/dist/index.js';
import { AF_INET, SOCK_NONBLOCK, SOCK_STREAM, socket } from '../../packages/net/dist/index.js';

const kind = process.argv[2];
const loop = new EventLoop();

class Echo extends Protocol {
  connectionMade(t) {
    this.t = t;
  }
  dataReceived(data) {
    this.t.write(data);
  }
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (line) => {
  if (line.startsWith('cpu')) process.stdout.write(JSON.stringify(process.cpuUsage()) + '\n');
  if (line.startsWith('exit')) process.exit(0);
});

await loop.runUntilComplete(async () => {
  if (kind === 'transport') {
    const server = await loop.createServer(() => new Echo(), '127.0.0.1', 0, { backlog: 1024 });
    process.stdout.write(`${server.sockets[0].getsockname()[1]}\n`);
  } else {
    const listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    listener.bind(['127.0.0.1', 0]);
    listener.listen(1024);
    process.stdout.write(`${listener.getsockname()[1]}\n`);
    loop.createTask(async () => {
      for (;;) {
        const [conn] = await loop.sockAccept(listener);
        loop.createTask(async () => {
          for (;;) {
            const data = await loop.sockRecv(conn, 65536);
            if (data.length === 0) break;
            await loop.sockSendall(conn, data);
          }
          conn.close();
        });
      }
    });
  }
  await loop.createFuture(); // serve until killed
});
