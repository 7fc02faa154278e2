// The real fan-out bundle, in an environment that dies when the test says so: a message on the
// BroadcastChannel below makes it exit (in a worker thread, process.exit ends only that thread), as
// a Lambda runtime that crashes does, with whatever posts it had in flight. The runner reports
// Runtime.ExitError and the event source mapping leaves the batch for SQS to give back.
import { BroadcastChannel } from 'node:worker_threads';

export { handler } from '../../../dist/fanout/index.mjs';

// The name crash.test.ts broadcasts on.
const CRASH_CHANNEL = 'fanout-reliability-crash';

const channel = new BroadcastChannel(CRASH_CHANNEL);
// The channel must not keep an idle environment alive.
channel.unref();
channel.onmessage = () => process.exit(70);
