// Core's own loop, task and future suites, run with EventLoop replaced by an
// auto-advancing TestLoop (see vitest.config.ts). Tests about real time are
// skipped by name, with the reason, in fixtures/vitest-on-testloop.ts.
import '../../core/test/loop.test.ts';
import '../../core/test/tasks.test.ts';
import '../../core/test/futures.test.ts';
