// Samsa's logging contract: the pretty (terminal) format, a pino logger accepted as a Logger, a
// level given to startBroker(), its quiet default, and the debug/trace lines a broker writes
// (connection open/close at debug, one line per request at trace).

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { Admin } from '../../src/client/index.js';
import { startBroker } from '../../src/index.js';
import { isLogLevel, type Logger, type LogLevel, resolveLogger } from '../../src/logging/logger.js';
import { formatEntry } from '../../src/logging/pretty.js';
import { until } from '../helpers/tools.js';

interface Line {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

const ORDER: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** A Logger of Samsa's interface (no pino) that records what reaches it at `level` or above. */
function recordingLogger(level: LogLevel, lines: Line[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (l: LogLevel) =>
    (fields: object | string, msg?: string): void => {
      if (ORDER.indexOf(l) < ORDER.indexOf(level)) return;
      if (typeof fields === 'string') lines.push({ level: l, msg: fields, fields: { ...bindings } });
      else lines.push({ level: l, msg: msg ?? '', fields: { ...bindings, ...fields } });
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(level, lines, { ...bindings, ...more }),
    isLevelEnabled: (l) => l !== 'silent' && ORDER.indexOf(l) >= ORDER.indexOf(level),
  };
}

describe('the pretty format', () => {
  it('shows time, level, message and fields as key=value, without pino-only fields', () => {
    const time = new Date(2026, 11, 6, 2, 50, 51, 123).getTime();
    const line = JSON.stringify({
      level: 30,
      time,
      pid: 1,
      hostname: 'h',
      name: 'samsa',
      msg: 'Samsa broker listening on 127.0.0.1:9092',
      listener: 'PLAINTEXT://127.0.0.1:9092',
      nodeId: 1,
      logDirs: ['/tmp/a b'],
      reason: 'idle for connections.max.idle.ms',
    });
    expect(formatEntry(`${line}\n`)).toBe(
      '2026-12-06 02:50:51.123 INFO  Samsa broker listening on 127.0.0.1:9092 ' +
        'listener=PLAINTEXT://127.0.0.1:9092 nodeId=1 logDirs=["/tmp/a b"] ' +
        'reason="idle for connections.max.idle.ms"\n',
    );
  });

  it("puts an error's stack on the lines below, and colours the level only when asked", () => {
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' };
    const text = formatEntry(
      JSON.stringify({ level: 50, time: 0, msg: 'request failed', err, api: 'Fetch' }),
    );
    expect(text).toMatch(/ ERROR request failed api=Fetch\n {4}Error: boom\n {8}at f \(x\.js:1:1\)\n$/);
    expect(text).not.toContain('\x1b[');
    expect(formatEntry(JSON.stringify({ level: 40, time: 0, msg: 'w' }), true)).toContain('\x1b[33mWARN');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(formatEntry('plain text')).toBe('plain text\n');
  });
});

describe('loggers given to the broker', () => {
  let broker: Broker | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('accepts a pino logger as a Samsa Logger (structurally) and a level name', () => {
    const fromPino: Logger = pino({ level: 'silent' });
    expect(resolveLogger(fromPino, 'warn')).toBe(fromPino);
    const quiet = resolveLogger('error', 'info');
    expect(quiet.isLevelEnabled?.('warn')).toBe(false);
    expect(quiet.isLevelEnabled?.('error')).toBe(true);
    expect(() => resolveLogger('loud' as LogLevel, 'info')).toThrow(/unknown log level "loud"/);
    expect(isLogLevel('trace') && !isLogLevel('verbose')).toBe(true);
  });

  it('startBroker() is quiet by default: its logger is at warn unless SAMSA_LOG_LEVEL says otherwise', async () => {
    const saved = process.env.SAMSA_LOG_LEVEL;
    delete process.env.SAMSA_LOG_LEVEL;
    try {
      broker = await startBroker();
      expect(broker.log.isLevelEnabled?.('info')).toBe(false);
      expect(broker.log.isLevelEnabled?.('warn')).toBe(true);
      await broker.stop();
      process.env.SAMSA_LOG_LEVEL = 'error';
      broker = await startBroker();
      expect(broker.log.isLevelEnabled?.('warn')).toBe(false);
      await broker.stop();
      broker = await startBroker({ logger: 'debug' });
      expect(broker.log.isLevelEnabled?.('debug')).toBe(true);
      expect(broker.log.isLevelEnabled?.('trace')).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.SAMSA_LOG_LEVEL;
      else process.env.SAMSA_LOG_LEVEL = saved;
    }
  });

  it('writes connection open/close at debug and one line per request at trace', async () => {
    const lines: Line[] = [];
    broker = await startBroker({ logger: recordingLogger('trace', lines) });
    const admin = new Admin({ brokers: broker.bootstrap, clientId: 'log-test' });
    await admin.listTopics();
    await admin.close();
    await until(() => lines.some((l) => l.msg === 'connection closed'), 'the connection closed line');
    const opened = lines.find((l) => l.msg === 'connection opened');
    expect(opened?.level).toBe('debug');
    expect(opened?.fields.client).toMatch(/^127\.0\.0\.1:\d+$/);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.every((l) => l.level === 'trace')).toBe(true);
    const apis = requests.map((l) => l.fields.api);
    expect(apis).toContain('ApiVersions');
    expect(apis).toContain('Metadata');
    expect(requests[0].fields).toMatchObject({ clientId: 'log-test', client: opened?.fields.client });
    expect(typeof requests[0].fields.version).toBe('number');
    expect(typeof requests[0].fields.correlationId).toBe('number');
    const closed = lines.find((l) => l.msg === 'connection closed');
    expect(closed).toMatchObject({ level: 'debug', fields: { reason: 'closed by the client' } });
  });

  it('builds no per-request line when trace is off', async () => {
    const lines: Line[] = [];
    broker = await startBroker({ logger: recordingLogger('debug', lines) });
    const admin = new Admin({ brokers: broker.bootstrap });
    await admin.listTopics();
    await admin.close();
    expect(lines.some((l) => l.msg === 'request')).toBe(false);
    expect(lines.some((l) => l.msg === 'connection opened')).toBe(true);
  });
});
