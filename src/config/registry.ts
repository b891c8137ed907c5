// The config registry: every broker and topic config Samsa honours, in one place. Each entry has
// Kafka's name, type, default (Samsa's where it differs, with Kafka's value and the reason),
// validator, update mode (Kafka's read-only / per-broker / cluster-wide, and Samsa's where it
// differs) and documentation. A topic config lists its broker synonyms in Kafka's precedence
// order (ServerTopicConfigSynonyms); the broker configs that are such synonyms are defined by that
// same entry, so a topic config and its broker default are one entry. BrokerConfig (start-up
// parsing), metadata's ConfigResolver (effective values, DescribeConfigs, AlterConfigs
// validation), storage's LogConfig and docs/CONFIGURATION.md all read this table.
//
// Adding a config: one entry in TOPIC_CONFIG_DEFS (with its synonyms) or in BROKER_ONLY_DEFS;
// then `npm run docs:config` regenerates the reference.

import {
  atLeast,
  between,
  type ConfigKind,
  custom,
  LONG_MAX,
  type ParseableDef,
  type ParsedValue,
  type SynonymUnit,
  type Validator,
  validList,
  validString,
} from './values.js';

/**
 * Kafka's dynamic update modes: read-only (server.properties only, a restart to change),
 * per-broker (IncrementalAlterConfigs on BROKER "<id>"), cluster-wide (on BROKER "" as the
 * cluster default, or per broker).
 */
export type UpdateMode = 'read-only' | 'per-broker' | 'cluster-wide';

/** Kafka's value of something where Samsa's differs, and why. */
export interface KafkaDifference<T> {
  readonly value: T;
  readonly reason: string;
}

export interface ConfigKeyDef extends ParseableDef {
  readonly name: string;
  readonly type: ConfigKind;
  /** Samsa's default, parsed; null means "no default" (unset unless someone sets it). */
  readonly default: ParsedValue;
  readonly validator?: Validator;
  readonly doc: string;
  /** Kafka's default, when Samsa's differs. */
  readonly kafkaDefault?: KafkaDifference<ParsedValue>;
  /** Where Samsa applies the config differently from Kafka (accepted without effect, ...). */
  readonly samsaNote?: string;
}

export interface BrokerSynonym {
  readonly name: string;
  readonly unit: SynonymUnit;
  /**
   * Supplies the topic's default without being in the broker's synonym group (Kafka's
   * log.flush.scheduler.interval.ms, a fallback of log.flush.interval.ms only).
   */
  readonly defaultOnly?: boolean;
}

export interface TopicConfigDef extends ConfigKeyDef {
  /** Broker configs that supply the topic's default, highest priority first (may be empty). */
  readonly synonyms: readonly BrokerSynonym[];
}

export interface BrokerConfigDef extends ConfigKeyDef {
  /** Samsa's update mode. */
  readonly updateMode: UpdateMode;
  /** Whether IncrementalAlterConfigs/AlterConfigs may change it (updateMode is not read-only). */
  readonly dynamic: boolean;
  /** Kafka's update mode, when Samsa's differs. */
  readonly kafkaUpdateMode?: KafkaDifference<UpdateMode>;
  /** The topic config this broker config supplies the default of, if any. */
  readonly topicConfig?: string;
}

/**
 * A broker synonym as a topic config entry declares it. What it leaves out is the topic config's
 * (type, default, validator); `validator: null` means the broker config has none.
 */
interface SynonymSpec extends BrokerSynonym {
  readonly type?: ConfigKind;
  readonly default?: ParsedValue;
  readonly validator?: Validator | null;
  readonly kafkaDefault?: KafkaDifference<ParsedValue>;
  readonly kafkaUpdateMode?: KafkaDifference<UpdateMode>;
}

interface TopicEntry extends ConfigKeyDef {
  readonly synonyms: readonly SynonymSpec[];
}

const HOUR = 3_600_000n;
const DAY = 24n * HOUR;

const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'];

/** LogConfig's ThrottledReplicaListValidator: "*" or "partition:broker" pairs. */
const throttledReplicas = custom('[partitionId]:[brokerId],[partitionId]:[brokerId],... or *', (v) => {
  if (v === null) return null;
  const items = (v as readonly string[]).map((s) => s.trim());
  if (items.every((s) => /^([0-9]+:[0-9]+)?$/.test(s)) || items.join('') === '*') return null;
  return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...";
});

/** CompressionType.GZIP.levelValidator: [1..9] or -1 (Deflater.DEFAULT_COMPRESSION). */
const gzipLevel = custom('[1,...,9] or -1', (v) => {
  if (v === null) return null;
  const n = v as number;
  return n > 9 || (n < 1 && n !== -1) ? 'Value must be between 1 and 9, or -1' : null;
});

function same(...names: string[]): SynonymSpec[] {
  return names.map((name) => ({ name, unit: 'same' }));
}

/** Only the primary synonym of a topic config is dynamic in Kafka (DynamicLogConfig). */
const KAFKA_NOT_PRIMARY: KafkaDifference<UpdateMode> = {
  value: 'read-only',
  reason:
    'Kafka changes only the first synonym of a topic config dynamically; Samsa resolves every synonym when a topic config is read, so each may change.',
};

const NO_EFFECT_SINGLE_NODE = 'Accepted, validated and reported; no effect on a single node.';

/**
 * Kafka's topic-level configs (Kafka 4.1's LogConfig), in its definition order. Removed in 4.0 and
 * therefore unknown here: message.format.version, message.timestamp.difference.max.ms.
 */
const TOPIC_ENTRIES: readonly TopicEntry[] = [
  {
    name: 'segment.bytes',
    type: 'int',
    default: 1073741824,
    validator: atLeast(1024 * 1024),
    synonyms: same('log.segment.bytes'),
    doc: 'The size of a log segment file: a segment is rolled when it would grow past this size.',
  },
  {
    name: 'segment.ms',
    type: 'long',
    default: 7n * DAY,
    validator: atLeast(1n),
    synonyms: [
      { name: 'log.roll.ms', unit: 'same', default: null, validator: null },
      {
        name: 'log.roll.hours',
        unit: 'hours',
        type: 'int',
        default: 168,
        validator: atLeast(1),
        kafkaUpdateMode: KAFKA_NOT_PRIMARY,
      },
    ],
    doc: 'The time after which a segment is rolled even if it is not full, so that retention can delete or compact old data.',
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    default: 0n,
    validator: atLeast(0n),
    synonyms: [
      { name: 'log.roll.jitter.ms', unit: 'same', default: null, validator: null },
      {
        name: 'log.roll.jitter.hours',
        unit: 'hours',
        type: 'int',
        default: 0,
        validator: atLeast(0),
        kafkaUpdateMode: KAFKA_NOT_PRIMARY,
      },
    ],
    doc: 'The maximum random jitter subtracted from the scheduled segment roll time, to avoid rolling many segments at once.',
    samsaNote: 'Accepted and reported; segments roll without jitter.',
  },
  {
    name: 'segment.index.bytes',
    type: 'int',
    default: 10485760,
    validator: atLeast(4),
    synonyms: same('log.index.size.max.bytes'),
    doc: 'The size of the index that maps offsets to file positions; a segment rolls when its index is full.',
  },
  {
    name: 'flush.messages',
    type: 'long',
    default: 1n,
    kafkaDefault: {
      value: LONG_MAX,
      reason:
        "Samsa acknowledges a write only once it is fsynced (writes share fsyncs: group commit). A larger value, Kafka's Long.MAX_VALUE included, selects Kafka's page-cache mode.",
    },
    validator: atLeast(1n),
    synonyms: [
      {
        name: 'log.flush.interval.messages',
        unit: 'same',
        default: null,
        kafkaDefault: {
          value: LONG_MAX,
          reason: "Unset, so that the topic's default (1: fsync before every acknowledgement) applies.",
        },
      },
    ],
    doc: 'An interval, in messages, at which the log is fsynced. Samsa defaults to 1: a write is acknowledged only once it is fsynced (writes share fsyncs). Set it high to rely on the page cache, as Kafka does by default.',
  },
  {
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(0n),
    synonyms: [
      { name: 'log.flush.interval.ms', unit: 'same', default: null, validator: null },
      {
        name: 'log.flush.scheduler.interval.ms',
        unit: 'same',
        defaultOnly: true,
        validator: null,
        kafkaUpdateMode: KAFKA_NOT_PRIMARY,
      },
    ],
    doc: 'A time interval at which the log is fsynced. A value below Long.MAX_VALUE selects page-cache mode, with an fsync at least this often.',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    default: -1n,
    synonyms: same('log.retention.bytes'),
    doc: 'The maximum size a partition can grow to before old segments are discarded (delete policy); -1 means no size limit.',
  },
  {
    name: 'retention.ms',
    type: 'long',
    default: 7n * DAY,
    validator: atLeast(-1n),
    synonyms: [
      { name: 'log.retention.ms', unit: 'same', default: null, validator: null },
      {
        name: 'log.retention.minutes',
        unit: 'minutes',
        type: 'int',
        default: null,
        validator: null,
        kafkaUpdateMode: KAFKA_NOT_PRIMARY,
      },
      {
        name: 'log.retention.hours',
        unit: 'hours',
        type: 'int',
        default: 168,
        validator: null,
        kafkaUpdateMode: KAFKA_NOT_PRIMARY,
      },
    ],
    doc: 'The maximum time a segment is retained before it is discarded (delete policy); -1 means no time limit.',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    default: 1048588,
    validator: atLeast(0),
    synonyms: same('message.max.bytes'),
    doc: 'The largest record batch size allowed (after compression if compression is enabled).',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    default: 4096,
    validator: atLeast(0),
    synonyms: same('log.index.interval.bytes'),
    doc: 'How often, in bytes of log, an entry is added to the offset index.',
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    default: DAY,
    validator: atLeast(0n),
    synonyms: same('log.cleaner.delete.retention.ms'),
    doc: 'How long delete tombstone markers are retained in compacted topics.',
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: 0n,
    validator: atLeast(0n),
    synonyms: same('log.cleaner.min.compaction.lag.ms'),
    doc: 'The minimum time a message remains uncompacted in the log.',
  },
  {
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(1n),
    synonyms: same('log.cleaner.max.compaction.lag.ms'),
    doc: 'The maximum time a message remains ineligible for compaction in the log.',
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    default: 60000n,
    validator: atLeast(0n),
    synonyms: same('log.segment.delete.delay.ms'),
    doc: 'The time to wait before deleting a file from the filesystem.',
    samsaNote: 'Accepted and reported; Samsa deletes a segment once no read holds it.',
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: 0.5,
    validator: between(0, 1),
    synonyms: same('log.cleaner.min.cleanable.ratio'),
    doc: 'The minimum ratio of dirty log to total log for a log to be eligible for cleaning.',
  },
  {
    name: 'cleanup.policy',
    type: 'list',
    default: ['delete'],
    validator: validList('compact', 'delete'),
    synonyms: same('log.cleanup.policy'),
    doc: 'The retention policy for old log segments: "delete", "compact", or both ("delete,compact").',
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: false,
    synonyms: same('unclean.leader.election.enable'),
    doc: 'Whether replicas not in the ISR may be elected leader as a last resort, even though that may lose data.',
    samsaNote: NO_EFFECT_SINGLE_NODE,
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: 1,
    validator: atLeast(1),
    synonyms: same('min.insync.replicas'),
    doc: 'With acks=all, the minimum number of replicas that must acknowledge a write for it to succeed.',
    samsaNote: NO_EFFECT_SINGLE_NODE,
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: validString(...COMPRESSION_TYPES),
    synonyms: same('compression.type'),
    doc: "The final compression type for the topic: 'gzip', 'snappy', 'lz4', 'zstd', 'uncompressed', or 'producer' to keep the producer's codec.",
  },
  {
    name: 'compression.gzip.level',
    type: 'int',
    default: -1,
    validator: gzipLevel,
    synonyms: same('compression.gzip.level'),
    doc: 'The compression level to use if compression.type is set to gzip.',
  },
  {
    name: 'compression.lz4.level',
    type: 'int',
    default: 9,
    validator: between(1, 17),
    synonyms: same('compression.lz4.level'),
    doc: 'The compression level to use if compression.type is set to lz4.',
    samsaNote: "Accepted and reported; Samsa's lz4 codec compresses at its own fixed level.",
  },
  {
    name: 'compression.zstd.level',
    type: 'int',
    default: 3,
    validator: between(-131072, 22),
    synonyms: same('compression.zstd.level'),
    doc: 'The compression level to use if compression.type is set to zstd.',
  },
  {
    name: 'preallocate',
    type: 'boolean',
    default: false,
    synonyms: same('log.preallocate'),
    doc: 'Whether a new log segment file is preallocated on disk.',
    samsaNote: 'Accepted and reported; segment files are not preallocated.',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: validString('CreateTime', 'LogAppendTime'),
    synonyms: same('log.message.timestamp.type'),
    doc: 'Whether record timestamps are the producer\'s create time or the broker\'s log append time: "CreateTime" or "LogAppendTime".',
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX,
    validator: atLeast(0n),
    synonyms: same('log.message.timestamp.before.max.ms'),
    doc: "The largest allowed difference by which a record's timestamp may be earlier than the broker's time (CreateTime).",
  },
  {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    default: 3600000n,
    validator: atLeast(0n),
    synonyms: same('log.message.timestamp.after.max.ms'),
    doc: "The largest allowed difference by which a record's timestamp may be later than the broker's time (CreateTime).",
  },
  {
    name: 'message.downconversion.enable',
    type: 'boolean',
    default: true,
    synonyms: same('log.message.downconversion.enable'),
    doc: 'Whether a Fetch below v4 (clients before Kafka 0.11) may get down-converted magic 0/1 message sets; false answers such a fetch with UNSUPPORTED_VERSION. Deprecated in Kafka 3.x and without effect in Kafka 4.0, which has no down-conversion; Samsa honours it while samsa.legacy.protocol.enable is true.',
  },
  {
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    default: [],
    validator: throttledReplicas,
    synonyms: [],
    doc: "Replicas whose replication is throttled on the leader side, as [PartitionId]:[BrokerId] pairs or '*'.",
    samsaNote: NO_EFFECT_SINGLE_NODE,
  },
  {
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    default: [],
    validator: throttledReplicas,
    synonyms: [],
    doc: "Replicas whose replication is throttled on the follower side, as [PartitionId]:[BrokerId] pairs or '*'.",
    samsaNote: NO_EFFECT_SINGLE_NODE,
  },
  {
    name: 'remote.storage.enable',
    type: 'boolean',
    default: false,
    synonyms: [],
    doc: 'Whether tiered storage is enabled for the topic.',
    samsaNote: 'Samsa has no tiered storage: only false is accepted.',
  },
  {
    name: 'local.retention.ms',
    type: 'long',
    default: -2n,
    validator: atLeast(-2n),
    synonyms: same('log.local.retention.ms'),
    doc: 'With tiered storage, how long segments are kept locally; -2 means retention.ms.',
    samsaNote: 'Accepted and reported; no tiered storage.',
  },
  {
    name: 'local.retention.bytes',
    type: 'long',
    default: -2n,
    validator: atLeast(-2n),
    synonyms: same('log.local.retention.bytes'),
    doc: 'With tiered storage, how many bytes are kept locally per partition; -2 means retention.bytes.',
    samsaNote: 'Accepted and reported; no tiered storage.',
  },
  {
    name: 'remote.log.copy.disable',
    type: 'boolean',
    default: false,
    synonyms: [],
    doc: 'With tiered storage, stops copying segments to remote storage.',
    samsaNote: 'Accepted and reported; no tiered storage.',
  },
  {
    name: 'remote.log.delete.on.disable',
    type: 'boolean',
    default: false,
    synonyms: [],
    doc: 'With tiered storage, deletes remote data when tiered storage is disabled for the topic.',
    samsaNote: 'Accepted and reported; no tiered storage.',
  },
];

type BrokerEntry = Omit<BrokerConfigDef, 'dynamic' | 'topicConfig'>;

const KAFKA_DYNAMIC_SAMSA_STATIC = 'Samsa reads it at start only.';

/** Kafka changes keystores and truststores of a listener at run time (certificate rotation). */
const KAFKA_DYNAMIC_KEYSTORE: KafkaDifference<UpdateMode> = {
  value: 'per-broker',
  reason: 'Samsa reads keystores and truststores at start only.',
};

const STORE_TYPES = ['PKCS12', 'PEM'];

/**
 * The SSL configs of an SSL listener (Kafka's SslConfigs and BrokerSecurityConfigs). Each may
 * also be set for one listener as listener.name.<listener>.<config> (lower-case name), which wins
 * over the unprefixed value for that listener.
 */
const SSL_DEFS: readonly BrokerEntry[] = [
  {
    name: 'ssl.keystore.type',
    type: 'string',
    default: 'PKCS12',
    kafkaDefault: {
      value: 'JKS',
      reason: "Java's JKS format has no reader in Node.js; PKCS12 is the format keytool writes today.",
    },
    validator: validString(...STORE_TYPES),
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The format of the key store: PKCS12 (a .p12 file) or PEM (a private key and its certificate chain in one file, or in ssl.keystore.key and ssl.keystore.certificate.chain).',
  },
  {
    name: 'ssl.keystore.location',
    type: 'string',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: "The path of the key store file holding the listener's private key and certificate chain.",
  },
  {
    name: 'ssl.keystore.password',
    type: 'password',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The password of the key store file (PKCS12); with PEM, the password of an encrypted private key when ssl.key.password is not set.',
  },
  {
    name: 'ssl.key.password',
    type: 'password',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The password of the private key in the key store (PEM: of an encrypted private key).',
  },
  {
    name: 'ssl.keystore.key',
    type: 'password',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The private key in PEM form (PKCS#8), given inline instead of ssl.keystore.location; needs ssl.keystore.type=PEM (KIP-651).',
  },
  {
    name: 'ssl.keystore.certificate.chain',
    type: 'password',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The certificate chain of ssl.keystore.key in PEM form, inline (KIP-651).',
  },
  {
    name: 'ssl.truststore.type',
    type: 'string',
    default: 'PKCS12',
    kafkaDefault: {
      value: 'JKS',
      reason: "Java's JKS format has no reader in Node.js; PKCS12 is the format keytool writes today.",
    },
    validator: validString(...STORE_TYPES),
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The format of the trust store: PKCS12 or PEM (X.509 certificates).',
  },
  {
    name: 'ssl.truststore.location',
    type: 'string',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The path of the trust store file: the certificate authorities client certificates are verified against.',
  },
  {
    name: 'ssl.truststore.password',
    type: 'password',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'The password of the trust store file (PKCS12).',
  },
  {
    name: 'ssl.truststore.certificates',
    type: 'password',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: KAFKA_DYNAMIC_KEYSTORE,
    doc: 'Trusted certificates in PEM form, inline instead of ssl.truststore.location; needs ssl.truststore.type=PEM (KIP-651).',
  },
  {
    name: 'ssl.enabled.protocols',
    type: 'list',
    default: ['TLSv1.2', 'TLSv1.3'],
    validator: validList('TLSv1.2', 'TLSv1.3'),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The TLS versions a listener accepts.',
    samsaNote:
      'TLSv1 and TLSv1.1, which Kafka still accepts when listed, are refused (Node.js disables them).',
  },
  {
    name: 'ssl.protocol',
    type: 'string',
    default: 'TLSv1.3',
    validator: validString('TLSv1.2', 'TLSv1.3', 'TLS'),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: "The SSLContext protocol (Java's); the versions served are those of ssl.enabled.protocols.",
    samsaNote: 'Accepted and reported; ssl.enabled.protocols alone decides.',
  },
  {
    name: 'ssl.cipher.suites',
    type: 'list',
    default: [],
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The cipher suites a listener accepts, by IANA name (TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...) or OpenSSL name; empty for the defaults of Node.js.',
  },
  {
    name: 'ssl.client.auth',
    type: 'string',
    default: 'none',
    validator: validString('required', 'requested', 'none'),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'Whether an SSL listener asks clients for a certificate: required (a client without a trusted certificate fails the handshake), requested (asked for, not needed) or none.',
  },
  {
    name: 'ssl.endpoint.identification.algorithm',
    type: 'string',
    default: 'https',
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: "How a client checks the server's host name against its certificate (https) or not (empty); used by a broker's own client connections.",
    samsaNote: 'Accepted and reported; a Samsa node opens no client connections to other brokers.',
  },
  {
    name: 'ssl.principal.mapping.rules',
    type: 'string',
    default: 'DEFAULT',
    updateMode: 'read-only',
    doc: "Rules mapping a client certificate's distinguished name to a principal name: RULE:pattern/replacement/[LU], ..., DEFAULT (the whole distinguished name).",
  },
];

/**
 * The broker configs that are not synonyms of a topic config, with Kafka's defaults unless
 * noted. (The synonyms, log.retention.hours and the like, come from TOPIC_ENTRIES.)
 */
const BROKER_ONLY_DEFS: readonly BrokerEntry[] = [
  {
    name: 'node.id',
    type: 'int',
    default: 1,
    kafkaDefault: { value: null, reason: 'Kafka requires it; a single Samsa node needs no setting.' },
    validator: atLeast(0),
    updateMode: 'read-only',
    doc: "The node's id in the cluster, recorded in meta.properties of its log directory.",
  },
  {
    name: 'process.roles',
    type: 'list',
    default: ['broker', 'controller'],
    kafkaDefault: {
      value: null,
      reason: 'Kafka requires it; a Samsa node is always combined (broker and controller).',
    },
    validator: validList('broker', 'controller'),
    updateMode: 'read-only',
    doc: 'The roles of this node: broker, controller or both.',
    samsaNote: 'Samsa runs combined mode whatever is set.',
  },
  {
    name: 'listeners',
    type: 'list',
    default: ['PLAINTEXT://127.0.0.1:9092'],
    kafkaDefault: {
      value: ['PLAINTEXT://:9092'],
      reason: 'Samsa binds to loopback unless told otherwise, so a first start exposes nothing.',
    },
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The listeners, NAME://host:port, comma-separated. An empty host binds every interface. The security protocol of each comes from listener.security.protocol.map.',
    samsaNote:
      'Samsa serves every listener, with PLAINTEXT or SSL: a listener whose security protocol is SASL_PLAINTEXT or SASL_SSL is refused at start.',
  },
  {
    name: 'advertised.listeners',
    type: 'list',
    default: null,
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The listeners given to clients in metadata, when they differ from listeners (defaults to listeners); each name must be one of the listener names.',
  },
  {
    name: 'listener.security.protocol.map',
    type: 'string',
    default: 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    validator: custom('LISTENER_NAME:PROTOCOL,...', (v) => {
      for (const item of (v as string).split(',')) {
        if (item.trim() === '') continue;
        if (!/^\s*[A-Za-z0-9_]+\s*:\s*[A-Za-z0-9_]+\s*$/.test(item)) return `"${item}" is not NAME:PROTOCOL`;
      }
      return null;
    }),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'per-broker', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The security protocol of each listener name, as NAME:PROTOCOL pairs. Setting it replaces the default map; a listener whose name it does not map is an error.',
  },
  {
    name: 'controller.listener.names',
    type: 'list',
    default: null,
    updateMode: 'read-only',
    doc: 'The listener names the controller uses. A name listed here and absent from listener.security.protocol.map is PLAINTEXT.',
    samsaNote:
      'Read to resolve listener protocols only: a Samsa node is broker and controller in one process.',
  },
  ...SSL_DEFS,
  {
    name: 'http.listeners',
    type: 'list',
    default: ['http://127.0.0.1:9644'],
    validator: custom('empty, or one http://host:port', (v) => {
      const items = ((v as readonly string[] | null) ?? []).filter((s) => s.trim() !== '');
      if (items.length > 1) return 'Samsa serves one HTTP listener';
      if (items.length === 1 && !/^http:\/\/(\[[^\]]*\]|[^:/]*):\d{1,5}\/?$/.test(items[0].trim()))
        return `"${items[0]}" is not http://host:port (https is not served)`;
      return null;
    }),
    updateMode: 'read-only',
    doc: 'The HTTP listener (http://host:port) that serves /metrics (Prometheus), /health/live and /health/ready; empty for none. An empty host binds every interface.',
    samsaNote:
      'A Samsa config (Kafka exposes its metrics over JMX). startBroker() leaves it off unless it is given. When the default port is taken the broker logs a warning and runs without it; a port set explicitly that is taken stops the start.',
  },
  {
    name: 'log.dirs',
    type: 'list',
    default: ['./samsa-data'],
    kafkaDefault: {
      value: null,
      reason: 'Kafka falls back to log.dir (/tmp/kafka-logs); Samsa keeps data beside where it runs.',
    },
    updateMode: 'read-only',
    doc: 'The directories where partition logs and the metadata log live; the first holds meta.properties.',
  },
  {
    name: 'authorizer.class.name',
    type: 'string',
    default: '',
    updateMode: 'read-only',
    doc: 'The class of the authorizer that enforces ACLs; empty for none.',
    samsaNote:
      'Samsa has no authorizer yet: empty, the ACL APIs answer SECURITY_DISABLED; a name set refuses to start.',
  },
  {
    name: 'num.partitions',
    type: 'int',
    default: 1,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The number of partitions of a topic created without a count (auto-created or -1).',
  },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: 1,
    updateMode: 'read-only',
    doc: 'The replication factor of a topic created without one.',
  },
  {
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: true,
    updateMode: 'read-only',
    doc: 'Whether a Metadata request for an unknown topic creates it.',
  },
  {
    name: 'delete.topic.enable',
    type: 'boolean',
    default: true,
    updateMode: 'read-only',
    doc: 'Whether DeleteTopics may delete topics.',
  },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: 104857600,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The largest request the broker accepts; a larger one closes the connection.',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: 600000n,
    updateMode: 'read-only',
    doc: 'Idle connections are closed after this many milliseconds.',
  },
  {
    name: 'queued.max.requests',
    type: 'int',
    default: 500,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The number of requests queued before the network threads stop reading.',
    samsaNote: 'Applied per connection, capped at 16 requests in progress at once.',
  },
  {
    name: 'log.retention.check.interval.ms',
    type: 'long',
    default: 300000n,
    validator: atLeast(1n),
    updateMode: 'read-only',
    doc: 'How often the log manager checks whether a log segment can be deleted by retention.',
  },
  {
    name: 'log.cleaner.enable',
    type: 'boolean',
    default: true,
    updateMode: 'read-only',
    doc: 'Whether the log cleaner runs (compaction of topics with cleanup.policy=compact).',
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: 15000n,
    validator: atLeast(0n),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'cluster-wide', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'How long the cleaner sleeps when no log needs cleaning.',
  },
  {
    name: 'log.cleaner.dedupe.buffer.size',
    type: 'long',
    default: 134217728n,
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'cluster-wide', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The memory used for the offset map of log deduplication.',
  },
  {
    name: 'log.cleaner.io.buffer.size',
    type: 'int',
    default: 524288,
    validator: atLeast(0),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'cluster-wide', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'The memory used for the cleaner’s read and write buffers.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: 50,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The number of partitions of __consumer_offsets (do not change it once the topic exists).',
  },
  {
    name: 'offsets.topic.segment.bytes',
    type: 'int',
    default: 104857600,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The segment size of __consumer_offsets.',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: 10080,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'How long committed offsets of a group without members are kept.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: 600000n,
    validator: atLeast(1n),
    updateMode: 'read-only',
    doc: 'How often expired offsets are removed.',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: 4096,
    updateMode: 'read-only',
    doc: 'The largest metadata string an offset commit may carry.',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: 6000,
    updateMode: 'read-only',
    doc: 'The smallest session timeout a classic group member may ask for.',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: 1800000,
    updateMode: 'read-only',
    doc: 'The largest session timeout a classic group member may ask for.',
  },
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: 3000,
    updateMode: 'read-only',
    doc: 'How long the coordinator waits for more members to join a new group before its first rebalance.',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: 2147483647,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The largest number of members a classic group may have.',
  },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: 45000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The session timeout of KIP-848 consumer group members (between its min and max).',
  },
  {
    name: 'group.consumer.min.session.timeout.ms',
    type: 'int',
    default: 45000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The smallest group.consumer.session.timeout.ms allowed.',
  },
  {
    name: 'group.consumer.max.session.timeout.ms',
    type: 'int',
    default: 60000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The largest group.consumer.session.timeout.ms allowed.',
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: 5000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'How often KIP-848 consumer group members heartbeat (between its min and max).',
  },
  {
    name: 'group.consumer.min.heartbeat.interval.ms',
    type: 'int',
    default: 5000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The smallest group.consumer.heartbeat.interval.ms allowed.',
  },
  {
    name: 'group.consumer.max.heartbeat.interval.ms',
    type: 'int',
    default: 15000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The largest group.consumer.heartbeat.interval.ms allowed.',
  },
  {
    name: 'group.consumer.max.size',
    type: 'int',
    default: 2147483647,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The largest number of members a KIP-848 consumer group may have.',
  },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: ['uniform', 'range'],
    validator: validList(
      'uniform',
      'range',
      'org.apache.kafka.coordinator.group.assignor.UniformAssignor',
      'org.apache.kafka.coordinator.group.assignor.RangeAssignor',
    ),
    updateMode: 'read-only',
    doc: 'The server-side assignors of KIP-848 consumer groups, by name (or Kafka class name); the first is the default.',
  },
  {
    name: 'transaction.state.log.num.partitions',
    type: 'int',
    default: 50,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The number of partitions of __transaction_state (do not change it once the topic exists).',
  },
  {
    name: 'transaction.state.log.segment.bytes',
    type: 'int',
    default: 104857600,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The segment size of __transaction_state.',
  },
  {
    name: 'transaction.max.timeout.ms',
    type: 'int',
    default: 900000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'The largest transaction timeout a producer may ask for.',
  },
  {
    name: 'transactional.id.expiration.ms',
    type: 'int',
    default: 604800000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'How long a transactional id without transaction status updates is kept.',
  },
  {
    name: 'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    type: 'int',
    default: 10000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'How often transactions past their timeout are aborted.',
  },
  {
    name: 'transaction.remove.expired.transaction.cleanup.interval.ms',
    type: 'int',
    default: 3600000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'How often expired transactional ids are removed.',
  },
  {
    name: 'transaction.partition.verification.enable',
    type: 'boolean',
    default: true,
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'cluster-wide', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: 'Whether a transactional write is checked against the partitions its transaction added (KIP-890).',
  },
  {
    name: 'samsa.legacy.protocol.enable',
    type: 'boolean',
    default: true,
    updateMode: 'read-only',
    doc: "Samsa's own: serve the request versions Kafka 4.0 removed (KIP-896) with Kafka 3.9's semantics, for clients older than Kafka 2.1 (Produce v0-2 and Fetch v0-3 with magic 0/1 message sets, converted to and from record batch v2; ListOffsets v0, OffsetCommit v0-1, OffsetFetch v0, CreateTopics v0-1, DescribeConfigs v0, ...). false gives Kafka 4.0's exact version floors.",
  },
  {
    name: 'unstable.api.versions.enable',
    type: 'boolean',
    default: false,
    updateMode: 'read-only',
    doc: 'Serve API versions Kafka marks unstable (EndTxn v5, KIP-890 part 2).',
  },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: 86400000,
    validator: atLeast(1),
    updateMode: 'read-only',
    kafkaUpdateMode: { value: 'cluster-wide', reason: KAFKA_DYNAMIC_SAMSA_STATIC },
    doc: "How long a producer id's state is kept after its last write.",
  },
  {
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: 600000,
    validator: atLeast(1),
    updateMode: 'read-only',
    doc: 'How often expired producer ids are removed.',
  },
];

// ---- the derived tables ----

export const TOPIC_CONFIG_DEFS: readonly TopicConfigDef[] = TOPIC_ENTRIES.map((e) => ({
  ...e,
  synonyms: e.synonyms.map(
    (s): BrokerSynonym =>
      s.defaultOnly ? { name: s.name, unit: s.unit, defaultOnly: true } : { name: s.name, unit: s.unit },
  ),
}));

export const TOPIC_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIG_DEFS.map((d) => [d.name, d]),
);

/** A broker synonym's definition: the topic config's type, default and validator unless it says. */
function synonymDef(topic: TopicEntry, s: SynonymSpec): BrokerConfigDef {
  const validator = s.validator === null ? undefined : (s.validator ?? topic.validator);
  const def: BrokerConfigDef = {
    name: s.name,
    type: s.type ?? topic.type,
    default: s.default !== undefined ? s.default : topic.default,
    doc: `The broker default for the topic config ${topic.name}. ${topic.doc}`,
    updateMode: 'cluster-wide',
    dynamic: true,
    topicConfig: topic.name,
    ...(validator ? { validator } : {}),
    ...(s.kafkaDefault ? { kafkaDefault: s.kafkaDefault } : {}),
    ...(s.kafkaUpdateMode ? { kafkaUpdateMode: s.kafkaUpdateMode } : {}),
    ...(topic.samsaNote ? { samsaNote: topic.samsaNote } : {}),
  };
  return def;
}

/** Every broker config Samsa knows, by name: the broker-only ones, then the topic synonyms. */
export const BROKER_CONFIGS: ReadonlyMap<string, BrokerConfigDef> = (() => {
  const out = new Map<string, BrokerConfigDef>();
  for (const d of BROKER_ONLY_DEFS) out.set(d.name, { ...d, dynamic: d.updateMode !== 'read-only' });
  for (const t of TOPIC_ENTRIES) {
    for (const s of t.synonyms) {
      if (out.has(s.name)) throw new Error(`config ${s.name} is defined twice`);
      out.set(s.name, synonymDef(t, s));
    }
  }
  return out;
})();

/**
 * The broker configs that are synonyms of each other (Kafka's
 * DynamicBrokerConfig.brokerConfigSynonyms), highest priority first: a topic config's synonym
 * list, except for a synonym that only supplies a default.
 */
export function brokerConfigSynonyms(name: string): string[] {
  const def = BROKER_CONFIGS.get(name);
  const topic = def?.topicConfig ? TOPIC_CONFIGS.get(def.topicConfig) : undefined;
  if (!topic) return [name];
  const self = topic.synonyms.find((s) => s.name === name);
  if (self?.defaultOnly) return [name];
  return topic.synonyms.map((s) => s.name);
}
