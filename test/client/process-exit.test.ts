// A script that uses the client and is done exits by itself: after close() no client keeps the
// process alive, nor does a consumer loop broken out of (closed or not). Each scenario is a real
// node process (the compiled client) against a broker in this process; the test waits for the
// child's exit event, with a generous bound that only guards against a hung run.

import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '../../src/client/index.js';
import { type Broker, startBroker } from '../../src/index.js';
import { buildBroker, removeBrokerBuild } from '../helpers/broker-process.js';

let broker: Broker;
let clientModule: string;

beforeAll(async () => {
  broker = await startBroker({ config: { 'num.partitions': '2' } });
  const producer = new Producer({ brokers: broker.bootstrap });
  await producer.send({ topic: 'exit-test', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
  await producer.close();
  clientModule = join(dirname(await buildBroker()), '..', 'src', 'client', 'index.js');
}, 120_000);

afterAll(async () => {
  await broker.stop();
  removeBrokerBuild();
});

/** Runs `body` as an ES module script with the client's exports in scope; resolves to how it ended. */
function runScript(body: string): Promise<{ code: number | null; signal: string | null; output: string }> {
  const script = `const { Admin, Consumer, Producer } = await import(${JSON.stringify(clientModule)});
const brokers = ${JSON.stringify(broker.bootstrap)};
${body}
console.log('script done');`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    // Only a guard against a hung run (the failure this test exists to catch): not a timing claim.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, output });
    });
  });
}

async function expectExits(body: string): Promise<string> {
  const r = await runScript(body);
  expect(r.signal, `the script hung and was killed:\n${r.output}`).toBeNull();
  expect(r.code, r.output).toBe(0);
  expect(r.output).toContain('script done');
  return r.output;
}

describe('a script using the client exits by itself', () => {
  it('after Producer.close() and Admin.close()', async () => {
    await expectExits(`
      const admin = new Admin({ brokers });
      await admin.listTopics();
      await admin.close();
      const producer = new Producer({ brokers });
      await producer.send({ topic: 'exit-test', messages: [{ value: 'x' }] });
      await producer.close();`);
  });

  it('after a group consumer breaks out of for await and closes', async () => {
    const out = await expectExits(`
      const consumer = new Consumer({ brokers, groupId: 'exit-a', autoOffsetReset: 'earliest' });
      consumer.subscribe({ topics: ['exit-test'] });
      for await (const r of consumer) { console.log('got', r.value.toString()); break; }
      await consumer.close();`);
    expect(out).toMatch(/got [abcx]/);
  });

  it('after a consumer breaks out of for await without close()', async () => {
    await expectExits(`
      const consumer = new Consumer({ brokers, groupId: 'exit-b', autoOffsetReset: 'earliest' });
      consumer.subscribe({ topics: ['exit-test'] });
      for await (const r of consumer) break;
      // Still usable: the loop left it open.
      await consumer.commit();`);
  });

  it('when close() ends a consumer loop that is waiting for records', async () => {
    const out = await expectExits(`
      const consumer = new Consumer({ brokers });
      consumer.assign([{ topic: 'exit-test', partition: 0 }]);
      consumer.seekToEnd();
      setTimeout(() => void consumer.close(), 1000);
      for await (const r of consumer) console.log('unexpected record');
      console.log('loop ended');`);
    expect(out).toContain('loop ended');
  });

  it('after close() of clients that never reached a broker', async () => {
    await expectExits(`
      const producer = new Producer({ brokers: '127.0.0.1:1', connectTimeoutMs: 500 });
      const sent = producer.send({ topic: 't', messages: [{ value: 'x' }] }).catch(() => {});
      const admin = new Admin({ brokers: '127.0.0.1:1', connectTimeoutMs: 500 });
      const listed = admin.listTopics().catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      await producer.close({ timeoutMs: 100 });
      await admin.close();
      await sent;
      await listed;`);
  });
});
