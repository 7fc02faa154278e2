import { type ConnectionState, type EventFrame, FanoutClient } from '@fanout/client';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ArrivalWindow, formatMs } from './stats.js';

/**
 * The local dashboard: talks to the platform exactly as a real dashboard would (token in the
 * connect URL, subscribe frames, event frames), using the client SDK. The dev server mints tokens
 * and publishes on its behalf, since a browser holds neither the secret nor AWS credentials.
 */

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
};
const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** Rows kept in the stream; older ones are dropped (the charts count every event). */
const MAX_ROWS = 500;
/** State changes kept in the little timeline under the state. */
const MAX_STATE_LOG = 12;
/**
 * The SDK's default is 30 s; a local platform restarts in seconds, so the page tries again sooner.
 */
const MAX_RECONNECT_DELAY_MS = 4000;

/** The page's client from Connect until Disconnect (open, connecting, or waiting to reconnect). */
let client: FanoutClient | undefined;
/** Between a Connect click and its outcome (fetching config and a token, the handshake). */
let connecting = false;
const subscribed = new Set<string>();
let received = 0;
let paused = false;
/** Events that arrived while paused, shown on resume (in arrival order). */
let held: { event: EventFrame; seq: number; latencyMs: number }[] = [];
const arrivals = new ArrivalWindow();
/** The client's last reported state (shown in #status). */
let shownState: ConnectionState = 'closed';

/**
 * Shows a message under the connection: an error (red, with its stable code when it has one) or a
 * confirmation (grey). `about: 'connection'` marks errors that a successful (re)connect makes stale.
 */
function log(message: string, kind: 'error' | 'info' = 'error', code?: string, about = 'request'): void {
  const el = $('log');
  el.replaceChildren();
  if (code) {
    const tag = document.createElement('code');
    tag.textContent = code;
    el.append(tag, ' ');
  }
  el.append(message);
  el.dataset.kind = message ? kind : '';
  el.dataset.about = about;
  if (code) el.dataset.code = code;
  else delete el.dataset.code;
}

/** FanoutRequestError carries the protocol's stable code; the dev server's errors carry theirs. */
function logError(err: unknown, about = 'request'): void {
  const code =
    typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
      ? err.code
      : undefined;
  log(err instanceof Error ? err.message : String(err), 'error', code, about);
}

function stateText(state: ConnectionState): string {
  if (state !== 'reconnecting') return state;
  const retryAt = client?.status.retryAt;
  if (retryAt === undefined) return state;
  return `reconnecting in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s`;
}

function renderState(state: ConnectionState): void {
  if (state !== shownState) {
    const item = document.createElement('li');
    item.dataset.state = state;
    item.textContent = `${new Date().toLocaleTimeString()} ${state}`;
    const timeline = $('state-log');
    timeline.append(item);
    while (timeline.children.length > MAX_STATE_LOG) timeline.firstElementChild?.remove();
  }
  shownState = state;
  const status = $('status');
  status.textContent = stateText(state);
  status.dataset.state = state;
  const lastClose = client?.status.lastClose;
  $('close-info').textContent =
    lastClose && state !== 'open'
      ? `last close ${lastClose.code}${lastClose.reason ? ` ${lastClose.reason}` : ''}`
      : '';
  // Open again: an error about reaching the platform (a token fetch or a handshake that failed
  // while it was away) is no longer true, so it goes.
  if (state === 'open' && $('log').dataset.about === 'connection') log('');
  // Connect stays disabled while a client exists, so a second click during the (slow, first-call)
  // handshake cannot open a second connection that nothing would ever close.
  $<HTMLButtonElement>('connect').disabled = connecting || client !== undefined;
  $<HTMLButtonElement>('disconnect').disabled = connecting || client === undefined;
  for (const id of ['subscribe', 'unsubscribe']) $<HTMLButtonElement>(id).disabled = state !== 'open';
}

function renderSubscriptions(): void {
  const box = $('subscriptions');
  box.replaceChildren(
    ...[...subscribed].sort().map((topic) => {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.dataset.topic = topic;
      const name = document.createElement('span');
      name.textContent = topic;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.title = `unsubscribe from ${topic}`;
      remove.setAttribute('aria-label', `unsubscribe from ${topic}`);
      remove.addEventListener('click', () => run(() => unsubscribe([topic])));
      chip.append(name, remove);
      return chip;
    }),
  );
}

function matchesFilter(item: HTMLElement): boolean {
  const filter = $<HTMLInputElement>('filter').value.trim().toLowerCase();
  return filter === '' || (item.dataset.search ?? '').includes(filter);
}

function renderEvent(event: EventFrame, seq: number, latencyMs: number): void {
  const item = document.createElement('li');
  item.dataset.eventId = event.id;
  item.dataset.seq = String(seq);
  item.dataset.latencyMs = String(latencyMs);
  const meta = document.createElement('div');
  meta.className = 'meta';
  const field = (label: string, value: string, className = '') => {
    const span = document.createElement('span');
    if (className) span.className = className;
    const b = document.createElement('b');
    b.textContent = label;
    span.append(b, ` ${value}`);
    return span;
  };
  const where =
    'user' in event
      ? [field('user', event.user)]
      : [field('topic', event.topic, 'topic'), field('via', event.subscription, 'pattern')];
  meta.append(
    field('#', String(seq)),
    field('id', event.id, 'id'),
    ...where,
    field('latency', formatMs(latencyMs), 'latency'),
    field('from', `${event.source}/${event.detailType}`),
    field('at', event.time),
  );
  const data = document.createElement('pre');
  data.className = 'data';
  data.textContent = JSON.stringify(event.data, null, 2);
  item.append(meta, data);
  item.dataset.search = [
    event.id,
    'user' in event ? event.user : `${event.topic} ${event.subscription}`,
    JSON.stringify(event.data),
  ]
    .join(' ')
    .toLowerCase();
  item.hidden = !matchesFilter(item);
  const events = $('events');
  events.prepend(item);
  while (events.children.length > MAX_ROWS) events.lastElementChild?.remove();
}

function onEvent(event: EventFrame): void {
  const now = Date.now();
  const sent = Date.parse(event.time);
  const latencyMs = Number.isNaN(sent) ? 0 : Math.max(0, now - sent);
  arrivals.add({ at: now, latencyMs });
  received += 1;
  $('count').textContent = String(received);
  if (paused) {
    held.push({ event, seq: received, latencyMs });
    $('stream-state').textContent = `paused, ${held.length} waiting`;
    return;
  }
  renderEvent(event, received, latencyMs);
}

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    throw Object.assign(new Error(String(json.message ?? response.statusText)), {
      code: String(json.code ?? response.status),
    });
  }
  return json;
}

async function connect(): Promise<void> {
  if (connecting || client) return;
  connecting = true;
  renderState('connecting');
  let next: FanoutClient | undefined;
  try {
    const { websocketUrl } = (await (await fetch('/config')).json()) as { websocketUrl: string };
    const sub = $<HTMLInputElement>('sub').value.trim();
    const topics = list($<HTMLInputElement>('grants').value);
    next = new FanoutClient({
      url: websocketUrl,
      token: async () => String((await post('/token', { sub, topics })).token),
      maxReconnectDelayMs: MAX_RECONNECT_DELAY_MS,
    });
    next.on('event', onEvent);
    next.on('state', renderState);
    next.on('error', (err) => logError(err, 'connection'));
    next.on('recovered', ({ recovered, missed }) =>
      log(
        recovered
          ? `recovered after a reconnect or a renewal: ${missed} event(s) sent again, none missed`
          : 'the events missed could not be recovered (too old or too many): reload',
        recovered ? 'info' : 'error',
        recovered ? undefined : 'not_recovered',
      ),
    );
    client = next;
    await next.connect();
    log('');
  } catch (err) {
    // A refused first connection is not retried: drop the client so Connect can be tried again.
    client = undefined;
    next?.close();
    throw err;
  } finally {
    connecting = false;
    renderState(client ? shownState : 'closed');
  }
}

function disconnect(): void {
  const current = client;
  current?.close();
  client = undefined;
  subscribed.clear();
  renderSubscriptions();
  renderState('closed');
  // The SDK keeps the close before this one in lastClose; this close was the page's own.
  if (current) $('close-info').textContent = 'closed from this page';
}

async function unsubscribe(topics: string[]): Promise<void> {
  for (const topic of (await client?.unsubscribe(...topics)) ?? []) subscribed.delete(topic);
  renderSubscriptions();
  log('');
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    logError(err);
  }
}

function setPaused(value: boolean): void {
  paused = value;
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  $('pause').setAttribute('aria-pressed', String(paused));
  if (!paused) {
    for (const { event, seq, latencyMs } of held) renderEvent(event, seq, latencyMs);
    held = [];
  }
  $('stream-state').textContent = paused ? `paused, ${held.length} waiting` : '';
}

// ---- charts (uPlot, bundled) ----

function chart(el: HTMLElement, series: uPlot.Series[]): uPlot {
  return new uPlot(
    {
      width: Math.max(200, el.clientWidth),
      height: 150,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { size: 28, font: '10px system-ui' },
        { size: 44, font: '10px system-ui' },
      ],
      series: [{}, ...series],
    },
    [[], ...series.map(() => [])],
    el,
  );
}

const rateChart = chart($('rate-chart'), [
  { label: 'events/s', stroke: '#3d63f0', fill: 'rgba(61,99,240,0.12)', points: { show: false } },
]);
const latencyChart = chart($('latency-chart'), [
  // Points as well as lines: a second with events between quiet ones is a lone point.
  { label: 'p50 ms', stroke: '#137a3a', points: { show: true, size: 5 }, spanGaps: true },
  { label: 'p99 ms', stroke: '#b3261e', points: { show: true, size: 5 }, spanGaps: true },
]);
new ResizeObserver(() => {
  for (const [c, id] of [
    [rateChart, 'rate-chart'],
    [latencyChart, 'latency-chart'],
  ] as const) {
    c.setSize({ width: Math.max(200, $(id).clientWidth), height: 150 });
  }
}).observe(document.body);

function tick(): void {
  const series = arrivals.series(Date.now());
  rateChart.setData([series.seconds, series.rate]);
  latencyChart.setData([series.seconds, series.p50, series.p99]);
  $('rate-now').textContent = `${series.total.count} in the last minute`;
  const { p50, p99 } = series.total;
  $('latency-now').textContent =
    p50 === null || p99 === null ? '' : `p50 ${formatMs(p50)} · p99 ${formatMs(p99)}`;
  if (shownState === 'reconnecting') $('status').textContent = stateText(shownState);
}
setInterval(tick, 1000);
setInterval(() => shownState === 'reconnecting' && tick(), 250);

// ---- wiring ----

$('connect').addEventListener('click', () => run(connect));
$('disconnect').addEventListener('click', disconnect);
$('subscribe').addEventListener('click', () =>
  run(async () => {
    const topics = list($<HTMLInputElement>('topic').value);
    for (const topic of (await client?.subscribe(...topics)) ?? []) subscribed.add(topic);
    renderSubscriptions();
    log('');
  }),
);
$('unsubscribe').addEventListener('click', () =>
  run(() => unsubscribe(list($<HTMLInputElement>('topic').value))),
);
$('publish').addEventListener('click', () =>
  run(async () => {
    let data: unknown;
    try {
      data = JSON.parse($<HTMLTextAreaElement>('pub-data').value);
    } catch {
      throw Object.assign(new Error('data must be JSON'), { code: 'bad_request' });
    }
    const result = await post('/publish', {
      topics: list($<HTMLInputElement>('pub-topics').value),
      users: list($<HTMLInputElement>('pub-users').value),
      data,
    });
    log(`published ${String(result.eventId)}`, 'info');
  }),
);
$('pause').addEventListener('click', () => setPaused(!paused));
$('clear').addEventListener('click', () => {
  $('events').replaceChildren();
  held = [];
  setPaused(paused);
});
$('filter').addEventListener('input', () => {
  for (const item of $('events').children) {
    if (item instanceof HTMLElement) item.hidden = !matchesFilter(item);
  }
});

// The defaults are those of the banner's token (`fanout dev`), whatever the page was served with.
fetch('/config')
  .then((response) => response.json())
  .then((config: { user?: string; grants?: string[] }) => {
    if (config.user) $<HTMLInputElement>('sub').value = config.user;
    if (config.grants) $<HTMLInputElement>('grants').value = config.grants.join(',');
  })
  .catch((err: unknown) => logError(err, 'connection'));
tick();
