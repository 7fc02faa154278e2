import { type ConnectionState, type EventFrame, FanoutClient } from '@fanout/client';

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

/** The page's client from Connect until Disconnect (open, connecting, or waiting to reconnect). */
let client: FanoutClient | undefined;
/** Between a Connect click and its outcome (fetching config and a token, the handshake). */
let connecting = false;
const subscribed = new Set<string>();
let received = 0;
/** The client's last reported state (shown in #status). */
let shownState: ConnectionState = 'closed';

/** Shows a message under the page: an error (red) or a confirmation (grey). */
function log(message: string, kind: 'error' | 'info' = 'error'): void {
  const el = $('log');
  el.textContent = message;
  el.dataset.kind = kind;
}

function renderState(state: ConnectionState): void {
  shownState = state;
  const status = $('status');
  status.textContent = state;
  status.dataset.state = state;
  // Connect stays disabled while a client exists, so a second click during the (slow, first-call)
  // handshake cannot open a second connection that nothing would ever close.
  $<HTMLButtonElement>('connect').disabled = connecting || client !== undefined;
  $<HTMLButtonElement>('disconnect').disabled = connecting || client === undefined;
  for (const id of ['subscribe', 'unsubscribe']) $<HTMLButtonElement>(id).disabled = state !== 'open';
}

function renderSubscriptions(): void {
  const box = $('subscriptions');
  box.replaceChildren(
    ...[...subscribed].map((topic) => {
      const chip = document.createElement('span');
      chip.textContent = topic;
      return chip;
    }),
  );
}

function renderEvent(event: EventFrame): void {
  const item = document.createElement('li');
  item.dataset.eventId = event.id;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const via = 'user' in event ? `user ${event.user}` : `${event.topic} via ${event.subscription}`;
  meta.textContent = `${event.time} · ${event.source}/${event.detailType} · ${via}`;
  const data = document.createElement('div');
  data.className = 'data';
  data.textContent = JSON.stringify(event.data);
  item.append(meta, data);
  $('events').prepend(item);
  $('count').textContent = String(++received);
}

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(String(json.message ?? response.statusText));
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
    });
    next.on('event', renderEvent);
    next.on('state', renderState);
    next.on('error', (err) => log(err.message));
    next.on('recovered', ({ recovered, missed }) =>
      log(
        recovered
          ? `reconnected and recovered: ${missed} event(s) sent again, none missed`
          : 'reconnected, but the events missed could not be recovered (too old or too many): reload',
        recovered ? 'info' : 'error',
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
  client = undefined;
  current?.close();
  subscribed.clear();
  renderSubscriptions();
  renderState('closed');
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
  }
}

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
  run(async () => {
    for (const topic of (await client?.unsubscribe(...list($<HTMLInputElement>('topic').value))) ?? []) {
      subscribed.delete(topic);
    }
    renderSubscriptions();
    log('');
  }),
);
$('publish').addEventListener('click', () =>
  run(async () => {
    const result = await post('/publish', {
      topics: list($<HTMLInputElement>('pub-topics').value),
      users: list($<HTMLInputElement>('pub-users').value),
      data: JSON.parse($<HTMLInputElement>('pub-data').value),
    });
    log(`published ${String(result.eventId)}`, 'info');
  }),
);
