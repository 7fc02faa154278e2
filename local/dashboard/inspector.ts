/**
 * The inspector page: the snapshot `fanout inspect` prints (GET /api/inspect, taken by
 * sdk/cli/src/inspect.ts on the dev server), refreshed every few seconds, and a redrive button per
 * dead letter (POST /api/dlq/redrive, the code of `fanout dlq redrive`).
 *
 * The snapshot's shape is sdk/cli/src/inspect-snapshot.ts, the one inspect.ts returns: a module of
 * types alone, which this browser build may import (inspect.ts itself runs in Node). The browser
 * tests read this page against the real snapshot.
 */

import type { InspectSnapshot, QueueView } from '../../sdk/cli/src/inspect-snapshot.js';

const REFRESH_MS = 2000;

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
};

/**
 * Shows a message above the sections. `about: 'snapshot'` marks a part the last refresh could not
 * read, which the next good refresh clears; an action's outcome (a redrive) stays until the next one.
 */
function message(
  text: string,
  kind: 'error' | 'info',
  code?: string,
  about: 'snapshot' | 'action' = 'snapshot',
): void {
  const el = $('message');
  el.dataset.about = about;
  el.replaceChildren();
  if (code) {
    const tag = document.createElement('code');
    tag.textContent = code;
    el.append(tag, ' ');
  }
  el.append(text);
  el.dataset.kind = text ? kind : '';
  if (code) el.dataset.code = code;
  else delete el.dataset.code;
}

function age(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

type Cell = string | number | Node;

function table(headers: string[], rows: Cell[][], numeric: ReadonlySet<number> = new Set()): HTMLElement {
  const el = document.createElement('table');
  const head = el.createTHead().insertRow();
  headers.forEach((h, i) => {
    const th = document.createElement('th');
    if (numeric.has(i)) th.className = 'num';
    th.textContent = h;
    head.append(th);
  });
  const body = el.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((cell, i) => {
      const td = tr.insertCell();
      if (numeric.has(i)) td.className = 'num';
      if (cell instanceof Node) td.append(cell);
      else td.textContent = String(cell);
    });
  }
  return el;
}

function empty(text: string): HTMLElement {
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = text;
  return p;
}

function queueFigures(queue: QueueView): HTMLElement[] {
  const figures = document.createElement('div');
  figures.className = 'figures';
  const figure = (label: string, value: string, key: string) => {
    const span = document.createElement('span');
    span.dataset.figure = key;
    const b = document.createElement('b');
    b.textContent = value;
    span.append(b, ` ${label}`);
    return span;
  };
  figures.append(
    figure('waiting', String(queue.visible), 'visible'),
    figure('in flight', String(queue.inFlight), 'inFlight'),
    figure('delayed', String(queue.delayed), 'delayed'),
    figure('oldest', age(queue.oldestAgeSeconds), 'oldest'),
  );
  const url = document.createElement('div');
  url.className = 'url';
  url.textContent = queue.url;
  return [figures, url];
}

function render(s: InspectSnapshot): void {
  $('taken').textContent = `${s.mode} · table ${s.tableName} · ${new Date(s.takenAt).toLocaleTimeString()}`;
  $('connection-count').textContent = `${s.connections.count}${s.connections.truncated ? '+' : ''}`;
  $('connections').replaceChildren(
    s.connections.items.length === 0
      ? empty('No connections.')
      : table(
          ['id', 'user', 'age', 'source', 'subscriptions'],
          s.connections.items.map((c) => [
            c.connectionId,
            c.userId ?? '-',
            age(c.ageSeconds),
            c.sourceIp ?? '-',
            c.subscriptions.join(', ') || '-',
          ]),
        ),
  );
  $('pattern-count').textContent = String(s.patterns.length);
  $('patterns').replaceChildren(
    s.patterns.length === 0
      ? empty('No subscriptions.')
      : table(
          ['pattern', 'subscribers'],
          s.patterns.map((p) => [p.pattern, `${p.atLeast ? '≥ ' : ''}${p.subscribers}`]),
          new Set([1]),
        ),
  );
  $('queue').replaceChildren(...queueFigures(s.queue));
  $('dlq-count').textContent = String(s.dlq.visible + s.dlq.inFlight + s.dlq.delayed);
  const letters =
    s.dlq.letters.length === 0
      ? [empty('No letters.')]
      : [
          table(
            ['letter', 'sent', 'receives', 'reason', 'summary', ''],
            s.dlq.letters.map((l) => {
              const button = document.createElement('button');
              button.type = 'button';
              button.textContent = 'Redrive';
              button.dataset.redrive = l.messageId;
              button.addEventListener('click', () => redrive(button, l.messageId));
              const reason = l.detail ? `${l.reason}: ${l.detail}` : l.reason;
              return [l.messageId, l.sentAt ?? '-', l.receiveCount ?? '-', reason, l.summary, button];
            }),
          ),
        ];
  $('dlq').replaceChildren(...queueFigures(s.dlq), ...letters);
  $('invocation-count').textContent = String(s.invocations.length);
  $('invocations').replaceChildren(
    s.invocations.length === 0
      ? empty('No fan-out invocation yet.')
      : table(
          [
            'started',
            'duration',
            'records',
            'audience',
            'delivered',
            'pruned',
            'throttled',
            'retried',
            'failed',
            'error',
          ],
          s.invocations.map((i) => [
            new Date(i.startedAt).toLocaleTimeString(),
            i.durationMs === null ? 'running' : `${i.durationMs.toFixed(0)} ms`,
            i.records,
            i.audience,
            i.delivered,
            i.pruned,
            i.throttled,
            i.retried,
            i.failed,
            i.error ?? '',
          ]),
          new Set([1, 2, 3, 4, 5, 6, 7, 8]),
        ),
  );
  const problem = s.problems[0];
  if (problem) message(`${problem.part}: ${problem.message}`, 'error', problem.code);
  else if ($('message').dataset.about === 'snapshot') message('', 'info');
}

async function refresh(): Promise<void> {
  try {
    const response = await fetch('/api/inspect');
    const body = (await response.json()) as InspectSnapshot | { code: string; message: string };
    if (!response.ok || !('takenAt' in body)) {
      const failure = body as { code?: string; message?: string };
      return message(
        failure.message ?? response.statusText,
        'error',
        failure.code ?? String(response.status),
      );
    }
    render(body);
  } catch (err) {
    message(err instanceof Error ? err.message : String(err), 'error', 'unreachable');
  }
}

async function redrive(button: HTMLButtonElement, id: string): Promise<void> {
  button.disabled = true;
  try {
    const response = await fetch('/api/dlq/redrive', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [id] }),
    });
    const body = (await response.json()) as { moved?: string[]; code?: string; message?: string };
    if (!response.ok) {
      button.disabled = false;
      const code = body.code ?? String(response.status);
      return message(body.message ?? response.statusText, 'error', code, 'action');
    }
    message(`redrove ${id} to the fan-out queue`, 'info', undefined, 'action');
  } catch (err) {
    button.disabled = false;
    message(err instanceof Error ? err.message : String(err), 'error', 'unreachable', 'action');
  }
  await refresh();
}

let timer: ReturnType<typeof setTimeout> | undefined;
async function loop(): Promise<void> {
  await refresh();
  timer = setTimeout(loop, REFRESH_MS);
}
document.addEventListener('visibilitychange', () => {
  clearTimeout(timer);
  if (!document.hidden) void loop();
});
void loop();
