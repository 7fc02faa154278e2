/**
 * The bookkeeping every reliability scenario shares, so that each reports the same figures counted the
 * same way: which events were published and who had to get each, what every client received, and
 * from that, per live client and event id, what was lost, duplicated or delivered to the wrong client.
 *
 * "Had to get" is the promise of docs/architecture.md: an event reaches every connection that was
 * subscribed to it when it was published and stays connected. A subscription counts from its
 * `subscribed` reply until its `unsubscribe` is sent; an event counts from before its PutEvents call.
 * So an event published while a subscription is changing is expected by nobody who is changing it
 * (receiving it is allowed, missing it is not counted), and every other one is expected for sure.
 * Direct-to-user events are expected by every live connection of the user.
 */
import { matches } from '@fanout/protocol';

export interface EventAudience {
  topics?: readonly string[];
  users?: readonly string[];
}

interface ClientBook {
  name: string;
  sub: string;
  /** Live until it leaves; a client that left is no longer owed anything. */
  live: boolean;
  /** Patterns held for sure: acknowledged, no unsubscribe sent since. */
  stable: Set<string>;
  /** Every pattern it ever asked for, acknowledged or not: what it may legitimately receive. */
  everAsked: Set<string>;
  expected: Set<string>;
  /** Event id → how many frames carried it. */
  received: Map<string, number>;
}

/** The figures of one scenario, in the order docs/reliability.md shows them. */
export interface DeliveryFigures {
  /** Events published in the scenario (each once, whatever its audience). */
  published: number;
  /** Clients still connected at the end: the ones the delivery promise is about. */
  liveClients: number;
  /** (live client, event) pairs the promise owes. */
  expected: number;
  /** Owed pairs received at least once. */
  delivered: number;
  /** Frames beyond the first for the same client and event (allowed: delivery is at least once). */
  duplicated: number;
  /** Owed pairs never received. */
  lost: number;
  /** Receipts of an event the client never asked for nor was addressed by (or that nobody published). */
  misdelivered: number;
  /** A few lost and misdelivered pairs, for the failure message. */
  samples: string[];
}

export class Ledger {
  private readonly clients = new Map<string, ClientBook>();
  private readonly events = new Map<string, EventAudience>();

  /** A client joined (connected as user `sub`). */
  joined(name: string, sub: string): void {
    if (this.clients.has(name)) throw new Error(`client ${name} joined twice`);
    this.clients.set(name, {
      name,
      sub,
      live: true,
      stable: new Set(),
      everAsked: new Set(),
      expected: new Set(),
      received: new Map(),
    });
  }

  /** Before a subscribe frame is sent. */
  subscribing(name: string, patterns: readonly string[]): void {
    for (const pattern of patterns) this.book(name).everAsked.add(pattern);
  }

  /** After the `subscribed` reply. */
  subscribed(name: string, patterns: readonly string[]): void {
    const book = this.book(name);
    for (const pattern of patterns) {
      book.everAsked.add(pattern);
      book.stable.add(pattern);
    }
  }

  /** Before an unsubscribe frame is sent. */
  unsubscribing(name: string, patterns: readonly string[]): void {
    for (const pattern of patterns) this.book(name).stable.delete(pattern);
  }

  /** Before a client leaves (closes, vanishes): it is owed nothing from now on, and nothing before counts. */
  leaving(name: string): void {
    this.book(name).live = false;
  }

  isLive(name: string): boolean {
    return this.book(name).live;
  }

  liveNames(): string[] {
    return [...this.clients.values()].filter((book) => book.live).map((book) => book.name);
  }

  /** Who is owed an event with this audience, taken before it is published. */
  owedBy(audience: EventAudience): string[] {
    return [...this.clients.values()]
      .filter((book) => book.live && this.addresses(book, audience, book.stable))
      .map((book) => book.name);
  }

  /** An event PutEvents accepted, owed to `owed` (from `owedBy` before the call). */
  published(id: string, audience: EventAudience, owed: readonly string[]): void {
    if (this.events.has(id)) throw new Error(`event ${id} published twice`);
    this.events.set(id, audience);
    for (const name of owed) this.book(name).expected.add(id);
  }

  /** One frame carrying event `id` reached client `name`. */
  received(name: string, id: string): void {
    const book = this.book(name);
    book.received.set(id, (book.received.get(id) ?? 0) + 1);
  }

  publishedCount(): number {
    return this.events.size;
  }

  /** Whether every live client has every event it is owed (for waiting on delivery). */
  allDelivered(): boolean {
    return this.figures().lost === 0;
  }

  figures(): DeliveryFigures {
    const figures: DeliveryFigures = {
      published: this.events.size,
      liveClients: 0,
      expected: 0,
      delivered: 0,
      duplicated: 0,
      lost: 0,
      misdelivered: 0,
      samples: [],
    };
    const sample = (text: string) => {
      if (figures.samples.length < 10) figures.samples.push(text);
    };
    for (const book of this.clients.values()) {
      for (const [id, count] of book.received) {
        const audience = this.events.get(id);
        if (!audience || !this.addresses(book, audience, book.everAsked)) {
          figures.misdelivered += count;
          sample(`${book.name} received ${id}, which was not for it`);
        }
      }
      if (!book.live) continue;
      figures.liveClients += 1;
      for (const id of book.expected) {
        figures.expected += 1;
        if (book.received.has(id)) figures.delivered += 1;
        else {
          figures.lost += 1;
          sample(`${book.name} never received ${id}`);
        }
      }
      for (const count of book.received.values()) figures.duplicated += count - 1;
    }
    return figures;
  }

  private addresses(book: ClientBook, audience: EventAudience, patterns: ReadonlySet<string>): boolean {
    if (audience.users?.includes(book.sub)) return true;
    return (audience.topics ?? []).some((topic) => [...patterns].some((pattern) => matches(pattern, topic)));
  }

  private book(name: string): ClientBook {
    const book = this.clients.get(name);
    if (!book) throw new Error(`client ${name} never joined the ledger`);
    return book;
  }
}
