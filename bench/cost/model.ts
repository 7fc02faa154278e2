/**
 * The cost model: dollars a month at rest, per million deliveries and per 10,000 dashboards connected
 * 8 hours a day, split by service, from the price table (prices.json) and figures the benchmark measured. Every
 * quantity it multiplies a price by is written out here, so the arithmetic can be checked by hand
 * (test/bench/cost.test.ts does one case).
 */

export interface Price {
  usd: number;
  per: number;
  unit: string;
  source: string;
}

export interface PriceTable {
  region: string;
  taken: string;
  prices: Record<
    | 'apiGatewayWebSocketMessage'
    | 'apiGatewayConnectionMinute'
    | 'lambdaRequest'
    | 'lambdaGbSecondX86'
    | 'sqsRequest'
    | 'eventBridgeCustomEvent'
    | 'dynamodbWriteRequestUnit'
    | 'dynamodbReadRequestUnit'
    | 'cloudWatchAlarm'
    | 'cloudWatchCustomMetric',
    Price
  >;
}

/** What one event costs to deliver: the measured figures and the deployment's settings. */
export interface DeliveryFigures {
  /** Subscribers per event. */
  audience: number;
  /** Bytes of one posted frame. */
  frameBytes: number;
  /** Bytes of the event on the bus and in the queue. */
  eventBytes: number;
  /** Billed Lambda duration per delivery, ms: the fan-out's wall time per post (it waits on API Gateway). */
  lambdaMsPerDelivery: number;
  /** The fan-out function's memory, MB (functions.json). */
  memoryMb: number;
  /** Audience members per record (FANOUT_PAGE_SIZE). */
  pageSize: number;
  /** Bytes of one audience row as a Query reads it (projected). */
  audienceRowBytes: number;
  /** Audience partitions read per event: one per pattern matching the topic (most hold nobody). */
  sourcesPerEvent: number;
  /** History: write units of the event's body, and pointers written (one per stream with members). */
  historyBodyWrites: number;
  historyPointers: number;
}

export interface DashboardFigures {
  dashboards: number;
  hoursPerDay: number;
  daysPerMonth: number;
  /** Events each dashboard receives per hour connected. */
  eventsPerHour: number;
  /** Client pings per hour (each is a message in and a reply out). */
  pingsPerHour: number;
  /** Connections per dashboard-day: API Gateway ends a connection after 2 hours. */
  connectionsPerDay: number;
  /** Lambda duration of the authorizer + $connect, subscribe, and $disconnect invocations of one connection, ms. */
  routeMsPerConnection: number;
  routeMemoryMb: number;
  /** Route invocations per connection: authorizer, $connect, subscribe, $disconnect. */
  routeInvocationsPerConnection: number;
  /** DynamoDB writes of one connection's life: META and user rows, subscription rows, their removal. */
  writesPerConnection: number;
  readsPerConnection: number;
}

/** What the stack costs whether or not anything is delivered: read from the module and the code. */
export interface StackFigures {
  /** CloudWatch alarms the module creates (alarms.tf, with alarms_enabled). */
  alarms: number;
  /** Custom metrics the functions publish (one per name and service dimension), billed while published. */
  customMetrics: number;
  /**
   * Concurrent batches Lambda polls the fan-out queue with when it is idle: five, the floor when maximum
   * concurrency is set ("Configuring scaling behavior for SQS event source mappings").
   */
  queuePollers: number;
  /** How long each of those long polls waits for a message, s: 20, the most SQS allows. */
  pollWaitSeconds: number;
}

export type Service = 'API Gateway' | 'Lambda' | 'SQS' | 'EventBridge' | 'DynamoDB' | 'CloudWatch';
export type CostLines = Record<Service, number>;

/** Hours in the month the price pages bill by (730, as the AWS pricing examples use). */
export const HOURS_PER_MONTH = 730;

const cost = (price: Price, quantity: number): number => (quantity * price.usd) / price.per;
const zero = (): CostLines => ({
  'API Gateway': 0,
  Lambda: 0,
  SQS: 0,
  EventBridge: 0,
  DynamoDB: 0,
  CloudWatch: 0,
});

/**
 * A month with nothing connected and nothing published. API Gateway, Lambda, EventBridge and DynamoDB
 * on demand bill per message, request, GB-second, event or stored byte, so an idle stack with an
 * empty table costs nothing there; what remains is Lambda's long polling of the fan-out queue (SQS
 * requests) and the alarms. Custom metrics cost nothing in a month in which none is published.
 */
export function atRestCost(prices: PriceTable, stack: StackFigures): CostLines {
  const p = prices.prices;
  const lines = zero();
  const polls = stack.queuePollers * (3600 / stack.pollWaitSeconds) * HOURS_PER_MONTH;
  lines.SQS = cost(p.sqsRequest, polls);
  lines.CloudWatch = cost(p.cloudWatchAlarm, stack.alarms);
  return lines;
}

/** What `deliveries` deliveries cost, by service. */
export function deliveryCost(prices: PriceTable, f: DeliveryFigures, deliveries: number): CostLines {
  const p = prices.prices;
  const events = deliveries / f.audience;
  const pages = events * Math.ceil(f.audience / f.pageSize);
  const lines = zero();
  // One message per frame per 32 KB.
  lines['API Gateway'] = cost(p.apiGatewayWebSocketMessage, deliveries * Math.ceil(f.frameBytes / 32_768));
  // One invocation per page (each page is a record; the first comes from the bus), duration per post.
  const gbSeconds = (deliveries * f.lambdaMsPerDelivery * f.memoryMb) / 1024 / 1000;
  lines.Lambda = cost(p.lambdaRequest, pages) + cost(p.lambdaGbSecondX86, gbSeconds);
  // Per page: the bus's (or the previous page's) SendMessage, the poller's ReceiveMessage, the DeleteMessage.
  const chunks = Math.ceil(f.eventBytes / 65_536);
  lines.SQS = cost(p.sqsRequest, pages * 3 * chunks);
  lines.EventBridge = cost(p.eventBridgeCustomEvent, events * chunks);
  // Strongly consistent Queries: 4 KB per read unit, rounded up per page; each empty source costs one unit,
  // and one more for its held-stream check (history).
  const pageReadUnits = Math.ceil((Math.min(f.pageSize, f.audience) * f.audienceRowBytes) / 4096);
  const readUnits = pages * pageReadUnits + events * (f.sourcesPerEvent - 1) * 2;
  const writeUnits = events * (f.historyBodyWrites + f.historyPointers);
  lines.DynamoDB = cost(p.dynamodbReadRequestUnit, readUnits) + cost(p.dynamodbWriteRequestUnit, writeUnits);
  return lines;
}

/**
 * A month of dashboards: the stack at rest, connection minutes, their messages, the route functions,
 * the events they get, and the custom metrics the functions publish all month.
 */
export function dashboardCost(
  prices: PriceTable,
  d: DashboardFigures,
  delivery: DeliveryFigures,
  stack: StackFigures,
): CostLines {
  const p = prices.prices;
  const hours = d.dashboards * d.hoursPerDay * d.daysPerMonth;
  const connections = d.dashboards * d.connectionsPerDay * d.daysPerMonth;
  const deliveries = hours * d.eventsPerHour;
  const lines = deliveryCost(prices, delivery, deliveries);
  const rest = atRestCost(prices, stack);
  for (const service of Object.keys(lines) as Service[]) lines[service] += rest[service];
  lines.CloudWatch += cost(p.cloudWatchCustomMetric, stack.customMetrics);
  // Per connection: the subscribe request and its reply; per hour: pings and their replies.
  const messages = connections * 2 + hours * d.pingsPerHour * 2;
  lines['API Gateway'] +=
    cost(p.apiGatewayConnectionMinute, hours * 60) + cost(p.apiGatewayWebSocketMessage, messages);
  const routeGbSeconds = (connections * d.routeMsPerConnection * d.routeMemoryMb) / 1024 / 1000;
  lines.Lambda +=
    cost(p.lambdaRequest, connections * d.routeInvocationsPerConnection) +
    cost(p.lambdaGbSecondX86, routeGbSeconds);
  lines.DynamoDB +=
    cost(p.dynamodbWriteRequestUnit, connections * d.writesPerConnection) +
    cost(p.dynamodbReadRequestUnit, connections * d.readsPerConnection);
  return lines;
}

export const total = (lines: CostLines): number => Object.values(lines).reduce((s, v) => s + v, 0);
