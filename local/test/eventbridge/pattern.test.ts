import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePattern, InvalidEventPatternError, matches } from '../../eventbridge/pattern.js';

/**
 * Patterns are copied from the EventBridge documentation and the event-ruler README
 * (AWS page "Comparison operators for use in event patterns in Amazon EventBridge", one block per row of its operator table); events marked AWS were
 * recorded against AWS by localstack's event_pattern_templates; the rest apply the documented rules.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The event-ruler README sample event (aws/event-ruler). */
const BASE = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

function withDetail(detail: Record<string, Json>): Record<string, Json> {
  return { ...BASE, detail };
}

function withBaseDetail(changes: Record<string, Json>): Record<string, Json> {
  return { ...BASE, detail: { ...BASE.detail, ...changes } };
}

interface Row {
  readonly pattern: Json;
  readonly matching: ReadonlyArray<readonly [string, Json]>;
  readonly notMatching: ReadonlyArray<readonly [string, Json]>;
}

const DOCUMENTED: Record<string, Row> = {
  'equals, OR within a field and an array field': {
    pattern: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    },
    matching: [['the base event', BASE]],
    notMatching: [
      ['a stopped instance', withBaseDetail({ state: 'stopped' })],
      ['an event without resources', { ...BASE, resources: [] }],
    ],
  },
  'AND across two fields': {
    pattern: { Location: ['New York'], Day: ['Monday'] },
    matching: [['both fields equal', { Location: 'New York', Day: 'Monday' }]],
    notMatching: [
      ['one field different', { Location: 'New York', Day: 'Tuesday' }],
      ['one field missing', { Location: 'New York' }],
    ],
  },
  prefix: {
    pattern: { time: [{ prefix: '2017-10-02' }] },
    matching: [['the base event', BASE]],
    notMatching: [
      ['another day', { ...BASE, time: '2017-10-03T00:00:00Z' }],
      ['the prefix later in the value', { ...BASE, time: 'at 2017-10-02' }],
    ],
  },
  'prefix, ignoring case': {
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    matching: [
      ['lower case', withDetail({ service: 'eventbridge' })],
      ['upper case', withDetail({ service: 'EVENTBRIDGE' })],
    ],
    notMatching: [['another service', withDetail({ service: 'sqs' })]],
  },
  suffix: {
    pattern: { source: [{ suffix: 'ec2' }] },
    matching: [['aws.ec2', BASE]],
    notMatching: [['aws.s3', { ...BASE, source: 'aws.s3' }]],
  },
  'suffix is case-sensitive': {
    pattern: { FileName: [{ suffix: '.png' }] },
    matching: [['a.png', { FileName: 'a.png' }]],
    notMatching: [['a.PNG', { FileName: 'a.PNG' }]],
  },
  'suffix, ignoring case': {
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    matching: [
      ['x.PNG', withDetail({ FileName: 'x.PNG' })],
      ['x.png', withDetail({ FileName: 'x.png' })],
    ],
    notMatching: [['x.jpg', withDetail({ FileName: 'x.jpg' })]],
  },
  'suffix, ignoring case, as in the operator table': {
    pattern: { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] },
    matching: [['EventBridge', { service: 'EventBridge' }]],
    notMatching: [['EventBus', { service: 'EventBus' }]],
  },
  'equals-ignore-case': {
    pattern: { Name: [{ 'equals-ignore-case': 'alice' }] },
    matching: [
      ['ALICE', { Name: 'ALICE' }],
      ['Alice', { Name: 'Alice' }],
    ],
    notMatching: [['Alicia', { Name: 'Alicia' }]],
  },
  'equals-ignore-case compares the whole value': {
    pattern: { source: [{ 'equals-ignore-case': 'EC2' }] },
    matching: [['ec2', { ...BASE, source: 'ec2' }]],
    notMatching: [['aws.ec2', BASE]],
  },
  'anything-but a string': {
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    matching: [
      ['running', BASE],
      ['a null state (AWS)', withBaseDetail({ state: null })],
      ['a numeric state', withBaseDetail({ state: 12 })],
    ],
    notMatching: [
      ['initializing', withBaseDetail({ state: 'initializing' })],
      ['no state at all (AWS)', withDetail({})],
    ],
  },
  'anything-but a number': {
    pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } },
    matching: [
      ['301.8', BASE],
      ['the string "123"', withBaseDetail({ 'x-limit': '123' })],
    ],
    notMatching: [['123', withBaseDetail({ 'x-limit': 123 })]],
  },
  'anything-but a list of strings': {
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    matching: [['running', BASE]],
    notMatching: [
      ['stopped', withBaseDetail({ state: 'stopped' })],
      ['overloaded', withBaseDetail({ state: 'overloaded' })],
    ],
  },
  'anything-but a list of numbers': {
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    matching: [['301.8', BASE]],
    notMatching: [['200', withBaseDetail({ 'x-limit': 200 })]],
  },
  'anything-but a prefix': {
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    matching: [
      ['running', BASE],
      ['a number, which has no prefix (AWS)', withBaseDetail({ state: 12 })],
    ],
    notMatching: [['initializing', withBaseDetail({ state: 'initializing' })]],
  },
  'anything-but a prefix, as in the operator table': {
    pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
    matching: [['eu-west-1', { Region: 'eu-west-1' }]],
    notMatching: [['us-east-1', { Region: 'us-east-1' }]],
  },
  'anything-but a list of prefixes (AWS)': {
    pattern: { Region: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] },
    matching: [['ap-south-1', { Region: 'ap-south-1' }]],
    notMatching: [['eu-west-1', { Region: 'eu-west-1' }]],
  },
  'anything-but a suffix': {
    pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    matching: [['a.jpg', { FileName: 'a.jpg' }]],
    notMatching: [['a.png', { FileName: 'a.png' }]],
  },
  'anything-but, ignoring case': {
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    matching: [['running', { state: 'running' }]],
    notMatching: [
      ['INITIALIZING', { state: 'INITIALIZING' }],
      ['initializing', { state: 'initializing' }],
    ],
  },
  'anything-but a list, ignoring case': {
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'Overloaded'] } }] },
    matching: [['running', { state: 'running' }]],
    notMatching: [['STOPPED', { state: 'STOPPED' }]],
  },
  'anything-but a wildcard': {
    pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    matching: [
      ['/usr/bin/x', { FilePath: '/usr/bin/x' }],
      ['a number (AWS)', { FilePath: 123 }],
    ],
    notMatching: [['/usr/lib/x', { FilePath: '/usr/lib/x' }]],
  },
  numeric: {
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    matching: [['5, 3 and 301.8', BASE]],
    notMatching: [
      ['c-count 6', withBaseDetail({ 'c-count': 6 })],
      ['c-count 0, on the open bound', withBaseDetail({ 'c-count': 0 })],
      ['c-count as the string "5"', withBaseDetail({ 'c-count': '5' })],
    ],
  },
  'exists: true': {
    pattern: { detail: { 'c-count': [{ exists: true }] } },
    matching: [
      ['the base event', BASE],
      ['a null value, which is present', withDetail({ 'c-count': null })],
    ],
    notMatching: [
      ['no c-count', withDetail({ state: 'running' })],
      ['an object, which is not a leaf', withDetail({ 'c-count': { c1: 100 } })],
      ['an empty array (AWS)', withDetail({ 'c-count': [] })],
    ],
  },
  'exists: false': {
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    matching: [
      ['no c-count', withDetail({ state: 'running' })],
      ['an object, which is not a leaf', withDetail({ 'c-count': { c1: 100 } })],
      ['no detail at all', { source: 'x' }],
    ],
    notMatching: [['the base event', BASE]],
  },
  wildcard: {
    pattern: { source: [{ wildcard: 'Simple*Service' }] },
    matching: [
      ['SimpleQueueService', { source: 'SimpleQueueService' }],
      ['SimpleService, the star matching nothing', { source: 'SimpleService' }],
    ],
    notMatching: [['SimpleQueue', { source: 'SimpleQueue' }]],
  },
  'wildcard over a path': {
    pattern: { FileName: [{ wildcard: 'dir/*.png' }] },
    matching: [['dir/a/b.png', { FileName: 'dir/a/b.png' }]],
    notMatching: [['dir/a.jpg', { FileName: 'dir/a.jpg' }]],
  },
  $or: {
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    matching: [
      ['the second alternative', { source: 'aws.cloudwatch', namespace: 'AWS/EC2' }],
      ['the first alternative', { source: 'aws.cloudwatch', metricName: 'ReadLatency' }],
    ],
    notMatching: [
      ['neither alternative', { source: 'aws.cloudwatch', metricName: 'DiskIO', namespace: 'AWS/S3' }],
      ['an alternative but not the source', { source: 'aws.ec2', namespace: 'AWS/EC2' }],
    ],
  },
  'cidr, IPv4': {
    pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } },
    matching: [['10.0.0.33', BASE]],
    notMatching: [
      ['10.0.1.5', withBaseDetail({ 'source-ip': '10.0.1.5' })],
      ['a number (AWS)', withBaseDetail({ 'source-ip': 123 })],
      ['an IPv6 address', withBaseDetail({ 'source-ip': '::ffff:a00:1' })],
    ],
  },
  'cidr, IPv6': {
    pattern: { ip: [{ cidr: '2001:db8:1234:1a00::/64' }] },
    matching: [
      ['an address in the block', { ip: '2001:db8:1234:1a00::1' }],
      ['the same address in upper case', { ip: '2001:DB8:1234:1A00:0:0:0:2' }],
    ],
    notMatching: [['an address outside', { ip: '2001:db8:1234:1a01::1' }]],
  },
  'empty string': {
    pattern: { LastName: [''] },
    matching: [['an empty last name', { LastName: '' }]],
    notMatching: [
      ['Smith', { LastName: 'Smith' }],
      ['null, which is not the empty string', { LastName: null }],
      ['no last name', {}],
    ],
  },
  null: {
    pattern: { UserID: [null] },
    matching: [['a null user id', { UserID: null }]],
    notMatching: [
      ['u1', { UserID: 'u1' }],
      ['the empty string', { UserID: '' }],
      ['no user id', {}],
    ],
  },
};

const BEYOND_THE_TABLE: Record<string, Row> = {
  'an exact number never matches a string, nor an exact string a number': {
    pattern: { a: [7], b: ['7'] },
    matching: [['7 and "7"', { a: 7, b: '7' }]],
    notMatching: [
      ['"7" and "7"', { a: '7', b: '7' }],
      ['7 and 7', { a: 7, b: 7 }],
    ],
  },
  'an exact number matches the same number written differently': {
    pattern: { n: [300] },
    matching: [['300.0, once parsed', JSON.parse('{"n": 300.0}')]],
    notMatching: [['300.5', { n: 300.5 }]],
  },
  'numeric >= and <= bounds are inclusive, > and < are not': {
    pattern: { n: [{ numeric: ['>=', 10, '<', 20] }] },
    matching: [
      ['10', { n: 10 }],
      ['19.5', { n: 19.5 }],
    ],
    notMatching: [
      ['9.999', { n: 9.999 }],
      ['20', { n: 20 }],
      ['the string "15"', { n: '15' }],
      ['true', { n: true }],
    ],
  },
  'numeric <= alone': {
    pattern: { n: [{ numeric: ['<=', -1.5] }] },
    matching: [['-1.5', { n: -1.5 }]],
    notMatching: [['-1.4', { n: -1.4 }]],
  },
  'numeric ignores numbers beyond ±5e9, which Ruler cannot compare': {
    pattern: { n: [{ numeric: ['>', 0] }] },
    matching: [['5e9', { n: 5e9 }]],
    notMatching: [['a millisecond timestamp', { n: 1_700_000_000_000 }]],
  },
  'an array in the event matches when any of its values does': {
    pattern: { detail: { topics: ['orders/eu'] } },
    matching: [['one of three', withDetail({ topics: ['a', 'orders/eu', 'b'] })]],
    notMatching: [
      ['none of two', withDetail({ topics: ['a', 'b'] })],
      ['an empty array', withDetail({ topics: [] })],
    ],
  },
  'operators apply to each value of an event array': {
    pattern: { tags: [{ prefix: 'env:' }] },
    matching: [['one tag with the prefix', { tags: ['team:a', 'env:prod'] }]],
    notMatching: [['no tag with the prefix', { tags: ['team:a'] }]],
  },
  'anything-but over an array needs only one value that is not excluded': {
    pattern: { states: [{ 'anything-but': 'stopped' }] },
    matching: [['stopped and running', { states: ['stopped', 'running'] }]],
    notMatching: [['only stopped', { states: ['stopped', 'stopped'] }]],
  },
  'null in a pattern does not match an empty array (AWS)': {
    pattern: { resources: [null] },
    matching: [['a null resource', { resources: null }]],
    notMatching: [['no resources', { resources: [] }]],
  },
  'nested objects address nested fields': {
    pattern: { detail: { bucket: { name: ['photos'] } } },
    matching: [['the named bucket', withDetail({ bucket: { name: 'photos', region: 'eu' } })]],
    notMatching: [
      ['another bucket', withDetail({ bucket: { name: 'logs' } })],
      ['a string where an object is expected', withDetail({ bucket: 'photos' })],
    ],
  },
  'fields of one pattern object must match within one element of an event array': {
    pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    matching: [
      [
        'Anna Smith',
        {
          employees: [
            { firstName: 'John', lastName: 'Doe' },
            { firstName: 'Anna', lastName: 'Smith' },
          ],
        },
      ],
    ],
    notMatching: [
      [
        'Anna and Smith in different elements',
        {
          employees: [
            { firstName: 'Anna', lastName: 'Doe' },
            { firstName: 'Peter', lastName: 'Smith' },
          ],
        },
      ],
    ],
  },
  'exists: false matches under a missing parent, anything-but does not (AWS)': {
    pattern: {
      dynamodb: { NewImage: { homemade: { S: [{ 'anything-but': ['roses'] }, { exists: false }] } } },
    },
    matching: [
      ['no homemade at all', { dynamodb: { NewImage: { purchased: { N: '789' } } } }],
      ['another flower', { dynamodb: { NewImage: { homemade: { S: 'tulips' } } } }],
    ],
    notMatching: [['roses', { dynamodb: { NewImage: { homemade: { S: 'roses' } } } }]],
  },
  '$or inside a sub-object, next to a parallel $or': {
    pattern: {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    matching: [
      ['one of each', { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } }],
    ],
    notMatching: [['only the outer one', { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } }]],
  },
  '$or nested in an alternative, with an AND inside': {
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        { metricType: ['MetricType'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      ],
    },
    matching: [
      ['the nested alternative', { source: 'aws.cloudwatch', metricType: 'MetricType', spaceId: 1000 }],
    ],
    notMatching: [['the AND without the nested OR', { source: 'aws.cloudwatch', metricType: 'MetricType' }]],
  },
  '$or over operator keywords is an ordinary field named $or': {
    pattern: { $or: [{ prefix: 'abc' }, { numeric: ['>', 1] }] },
    matching: [
      ['a $or field with the prefix', { $or: 'abcd' }],
      ['a $or field above 1', { $or: 2 }],
    ],
    notMatching: [['no $or field', { abc: 'abc' }]],
  },
  '$or with a single operator object is an ordinary field too': {
    pattern: { $or: [{ prefix: 'abc' }] },
    matching: [['a $or field with the prefix', { $or: 'abcd' }]],
    notMatching: [['a $or field without it', { $or: 'xyz' }]],
  },
  '$or with an object value is an ordinary nested field': {
    pattern: { source: ['aws.cloudwatch'], $or: { namespace: ['AWS/EC2'] } },
    matching: [['a nested $or object', { source: 'aws.cloudwatch', $or: { namespace: 'AWS/EC2' } }]],
    notMatching: [['the field at the top level', { source: 'aws.cloudwatch', namespace: 'AWS/EC2' }]],
  },
  'a wildcard escapes a star and a backslash with a backslash': {
    pattern: { a: [{ wildcard: 'x\\*y*' }], b: [{ wildcard: 'c:\\\\*' }] },
    matching: [['a literal star and backslash', { a: 'x*yz', b: 'c:\\temp' }]],
    notMatching: [['no literal star', { a: 'xzyz', b: 'c:\\temp' }]],
  },
  'an empty equals-ignore-case matches only the empty string (AWS)': {
    pattern: { value: [{ 'equals-ignore-case': '' }] },
    matching: [['an empty value', { value: '' }]],
    notMatching: [['any text', { value: 'a' }]],
  },
  'an empty anything-but wildcard excludes only the empty string (AWS)': {
    pattern: { path: [{ 'anything-but': { wildcard: '' } }] },
    matching: [['a path', { path: 'dir/init/file' }]],
    notMatching: [['the empty string', { path: '' }]],
  },
};

describe.each(Object.entries({ ...DOCUMENTED, ...BEYOND_THE_TABLE }))('the %s pattern', (_name, row) => {
  const compiled = compilePattern(row.pattern);

  it.each(row.matching)('matches %s', (_label, event) => {
    expect(matches(compiled, event)).toBe(true);
  });

  it.each(row.notMatching)('does not match %s', (_label, event) => {
    expect(matches(compiled, event)).toBe(false);
  });
});

describe('the rule pattern in terraform/modules/fanout/event-pattern.json', () => {
  const text = readFileSync(join(__dirname, '../../../terraform/modules/fanout/event-pattern.json'), 'utf8');
  const compiled = compilePattern(text);

  function event(detail: Record<string, Json>): Record<string, Json> {
    return { ...BASE, source: 'orders', 'detail-type': 'OrderUpdated', detail };
  }

  it('matches an event whose detail names topics', () => {
    expect(matches(compiled, event({ topics: ['orders/eu/1234'], data: { total: 3 } }))).toBe(true);
  });

  it('matches an event whose detail names users', () => {
    expect(matches(compiled, event({ users: ['alice'], data: null }))).toBe(true);
  });

  // Every event on fanout's bus goes to the fan-out queue, so one the platform cannot deliver is
  // dead-lettered with a reason there instead of vanishing at the rule.
  it('matches an event whose detail names neither topics nor users', () => {
    expect(matches(compiled, event({ data: { topics: ['nested, not at the top'] } }))).toBe(true);
  });

  it('matches an event whose only audience list is empty', () => {
    expect(matches(compiled, event({ topics: [], data: 1 }))).toBe(true);
  });

  it('matches an event from any source', () => {
    expect(matches(compiled, { ...BASE, source: 'anything.at.all', 'detail-type': 'X', detail: {} })).toBe(
      true,
    );
  });
});

describe('compilePattern', () => {
  it('reads a pattern given as JSON text, as PutRule takes it', () => {
    expect(matches(compilePattern('{"source": ["a"]}'), { source: 'a' })).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    ['an array', ['not', 'an', 'object'], /Filter is not an object/],
    ['null', null, /Filter is not an object/],
    ['text that is not JSON', "{'bad': 'quotation'}", /Event pattern is not valid/],
    ['an empty object', {}, /Empty objects are not allowed/],
    [
      'a leaf that is a string, not an array',
      { source: 'aws.ec2' },
      /"source" must be an object or an array/,
    ],
    [
      'a leaf that is a number',
      { detail: { int: 42 } },
      /"int" must be an object or an array \(at "detail.int"\)/,
    ],
    ['an empty leaf array', { resources: [] }, /Empty arrays are not allowed/],
    ['a nested array in a leaf', { a: [['x']] }, /Match value must be String, number, true, false, or null/],
    ['an unknown operator', { a: [{ regex: '.*' }] }, /Unrecognized match type regex/],
    ['an operator in the wrong case', { a: [{ EXISTS: true }] }, /Unrecognized match type EXISTS/],
    ['an operator object with two keys', { a: [{ prefix: 'a', suffix: 'b' }] }, /Only one key allowed/],
    ['an empty operator object', { a: [{}] }, /Match expression name not found/],
    ['a prefix list', { time: [{ prefix: ['2022'] }] }, /prefix match pattern must be a string/],
    ['a numeric suffix', { f: [{ suffix: 123 }] }, /suffix match pattern must be a string/],
    [
      'an equals-ignore-case list',
      { t: [{ 'equals-ignore-case': ['a'] }] },
      /equals-ignore-case match pattern/,
    ],
    ['exists with a string', { a: [{ exists: 'yes' }] }, /exists match pattern must be either true or false/],
    ['numeric that is not an array', { n: [{ numeric: '>' }] }, /Value of numeric must be an array/],
    [
      'an unknown numeric operator',
      { n: [{ numeric: ['!=', 1] }] },
      /Unrecognized numeric range operator: !=/,
    ],
    ['a numeric bound given as a string', { n: [{ numeric: ['>', '1'] }] }, /Value of > must be numeric/],
    ['two lower numeric bounds', { n: [{ numeric: ['>', 0, '>', 0] }] }, /Bad numeric range operator: >/],
    ['an equality with an upper bound', { n: [{ numeric: ['=', 1, '<', 2] }] }, /Too many elements/],
    ['a range without its last value', { n: [{ numeric: ['>', 0, '<'] }] }, /Value of < must be numeric/],
    ['an empty range', { n: [{ numeric: ['>', 5, '<', 1] }] }, /Bottom must be less than top/],
    ['a range with extra terms', { n: [{ numeric: ['>', 0, '<', 5, 6] }] }, /Too many terms/],
    ['a numeric bound beyond 5e9', { n: [{ numeric: ['<', 6e9] }] }, /between -5.0E9 and 5.0E9/],
    [
      'consecutive wildcards',
      { a: [{ wildcard: 'arn:aws:events:us-east-1:**:x' }] },
      /Consecutive wildcard characters at pos 26/,
    ],
    ['a backslash escaping a letter', { a: [{ wildcard: 'a\\b' }] }, /Invalid escape character/],
    ['a trailing backslash', { a: [{ wildcard: 'a\\' }] }, /Invalid escape character/],
    ['a numeric wildcard', { a: [{ wildcard: 123 }] }, /wildcard match pattern must be a string/],
    [
      'anything-but mixing strings and numbers',
      { a: [{ 'anything-but': ['a', 1] }] },
      /mixed type is not supported/,
    ],
    [
      'anything-but with null in its list',
      { a: [{ 'anything-but': [null] }] },
      /start\|null\|boolean is not supported/,
    ],
    [
      'anything-but with a boolean',
      { a: [{ 'anything-but': true }] },
      /must be an array or single string\/number/,
    ],
    [
      'anything-but with an empty prefix',
      { a: [{ 'anything-but': { prefix: '' } }] },
      /Null prefix\/suffix not allowed/,
    ],
    [
      'anything-but with a numeric prefix',
      { a: [{ 'anything-but': { prefix: 123 } }] },
      /prefix\/suffix match pattern must be a string/,
    ],
    [
      'anything-but with an ignore-case prefix',
      { a: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'x' } } }] },
      /prefix\/suffix match pattern must be a string/,
    ],
    [
      'anything-but with an unknown operator',
      { a: [{ 'anything-but': { numeric: ['>', 1] } }] },
      /Unsupported anything-but pattern: numeric/,
    ],
    [
      'anything-but ignoring the case of a number',
      { a: [{ 'anything-but': { 'equals-ignore-case': 123 } }] },
      /number\|start\|null\|boolean/,
    ],
    [
      'anything-but with a numeric wildcard in a list',
      { a: [{ 'anything-but': { wildcard: [123, '*/d/*'] } }] },
      /wildcard match pattern must be a string/,
    ],
    ['a CIDR without mask', { ip: [{ cidr: '10.0.0.1' }] }, /Malformed CIDR, one '\/' required/],
    ['a CIDR with a word for mask', { ip: [{ cidr: '10.0.0.0/abc' }] }, /mask bits must be an integer/],
    ['a CIDR with a bad address', { ip: [{ cidr: 'xx.11.xx/24' }] }, /Nonstandard IP address: xx.11.xx/],
    [
      'a CIDR with too many mask bits',
      { ip: [{ cidr: '10.0.0.0/33' }] },
      /mask bits must be between 0 and 32/,
    ],
    [
      'a CIDR that is not a string',
      { ip: [{ cidr: ['10.0.0.0/8'] }] },
      /cidr match pattern must be a string/,
    ],
  ])('refuses %s', (_label, pattern, message) => {
    expect(() => compilePattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => compilePattern(pattern)).toThrow(message);
  });

  it('refuses a $or with a single field object, which is then an ordinary field holding a bad operator', () => {
    const pattern = { detail: { $or: [{ topics: [{ exists: true }] }] } };
    expect(() => compilePattern(pattern)).toThrow(
      /Unrecognized match type topics; "\$or" is only an OR when/,
    );
  });

  it('names itself InvalidEventPatternException, like the AWS error', () => {
    expect(() => compilePattern({ a: 'b' })).toThrow(
      expect.objectContaining({ name: 'InvalidEventPatternException' }),
    );
  });
});
