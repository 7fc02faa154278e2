import { type EventMessage, FanoutClient } from '../../sdk/client/client.js';

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

let client: FanoutClient | undefined;
const subscribed = new Set<string>();
let received = 0;

function log(message: string): void {
  $('log').textContent = message;
}

function setConnected(open: boolean): void {
  $<HTMLElement>('status').textContent = open ? 'open' : 'closed';
  $<HTMLElement>('status').dataset.state = open ? 'open' : 'closed';
  $<HTMLButtonElement>('connect').disabled = open;
  for (const id of ['disconnect', 'subscribe', 'unsubscribe']) $<HTMLButtonElement>(id).disabled = !open;
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

function renderEvent(event: EventMessage): void {
  const item = document.createElement('li');
  item.dataset.eventId = event.id;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const via = event.user ? `user ${event.user}` : `${event.topic} via ${event.subscription}`;
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
  const { websocketUrl } = (await (await fetch('/config')).json()) as { websocketUrl: string };
  const sub = $<HTMLInputElement>('sub').value.trim();
  const topics = list($<HTMLInputElement>('grants').value);
  client = new FanoutClient({
    url: websocketUrl,
    token: async () => String((await post('/token', { sub, topics })).token),
  });
  client.on('event', renderEvent);
  client.on('state', (state) => setConnected(state === 'open'));
  client.on('error', (err) => log(err.message));
  await client.connect();
  log('');
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
  }
}

$('connect').addEventListener('click', () => run(connect));
$('disconnect').addEventListener('click', () => {
  client?.close();
  subscribed.clear();
  renderSubscriptions();
});
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
  }),
);
$('publish').addEventListener('click', () =>
  run(async () => {
    const result = await post('/publish', {
      topics: list($<HTMLInputElement>('pub-topics').value),
      users: list($<HTMLInputElement>('pub-users').value),
      data: JSON.parse($<HTMLInputElement>('pub-data').value),
    });
    log(`published ${String(result.eventId)}`);
  }),
);
