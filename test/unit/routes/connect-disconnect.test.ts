import { createConnectHandler } from '../../../shared/routes/connect.js';
import { createDisconnectHandler } from '../../../shared/routes/disconnect.js';
import { createSubscribeHandler } from '../../../shared/routes/subscribe.js';
import {
  authorizerContext,
  CONNECTED_AT,
  CONNECTION_ID,
  connectEvent,
  disconnectEvent,
  messageEvent,
  SOURCE_IP,
} from '../../support/events.js';
import { context, logged, routeDeps, subscriptionsOf } from './harness.js';

describe('$connect route', () => {
  it('registers the connection with its user, source ip and allowed topics', async () => {
    const deps = routeDeps();
    const register = jest.spyOn(deps.store, 'registerConnection');
    const handler = createConnectHandler(deps);
    const event = connectEvent({
      authorizer: authorizerContext({ userId: 'alice', topics: ['users/alice/*'] }, { onConnect: true }),
    });
    await expect(handler(event, context)).resolves.toEqual({ statusCode: 200 });
    expect(register).toHaveBeenCalledWith({
      connectionId: CONNECTION_ID,
      connectedAt: CONNECTED_AT,
      userId: 'alice',
      sourceIp: SOURCE_IP,
      allowedTopics: ['users/alice/*'],
    });
    expect(await subscriptionsOf(deps.store, 'alice')).toEqual([]);
    expect(deps.metrics.total('Connected')).toBe(1);
  });

  it('registers an anonymous connection without a user id', async () => {
    const deps = routeDeps();
    const register = jest.spyOn(deps.store, 'registerConnection');
    const event = connectEvent({
      authorizer: authorizerContext({ topics: ['public/*'] }, { onConnect: true }),
    });
    await createConnectHandler(deps)(event, context);
    expect(register).toHaveBeenCalledTimes(1);
    const registered = register.mock.calls[0]?.[0];
    expect(registered?.userId).toBeUndefined();
    expect(registered?.allowedTopics).toEqual(['public/*']);
    expect(deps.store.rowCount()).toBe(1);
  });

  it.each([
    ['no authorizer context', undefined],
    ['a null authorizer context', null],
    ['no topics in the context', { principalId: 'alice', userId: 'alice' }],
    ['topics that are not JSON', { userId: 'alice', topics: 'users/alice/*' }],
    ['topics that are not a list', { userId: 'alice', topics: '{"0":"users/alice/*"}' }],
    ['topics holding an invalid pattern', { userId: 'alice', topics: '["users/*/x"]' }],
    ['a user id that is not a string', { userId: 42, topics: '[]' }],
  ])('refuses (403) a connect event with %s and registers nothing', async (_what, authorizer) => {
    const deps = routeDeps();
    const event = connectEvent(authorizer === undefined ? {} : { authorizer });
    await expect(createConnectHandler(deps)(event, context)).resolves.toEqual({ statusCode: 403 });
    expect(deps.store.calls).toEqual([]);
    expect(deps.store.rowCount()).toBe(0);
    expect(logged(deps.logger, 'error', /connection refused/)).toHaveLength(1);
    expect(deps.metrics.total('ConnectRefused')).toBe(1);
    expect(deps.metrics.total('Connected')).toBe(0);
  });

  it('logs and rethrows a store failure, so API Gateway refuses the upgrade', async () => {
    const deps = routeDeps();
    deps.store.registerConnection = async () => Promise.reject(new Error('DynamoDB is down'));
    const event = connectEvent({ authorizer: authorizerContext({ userId: 'alice' }, { onConnect: true }) });
    await expect(createConnectHandler(deps)(event, context)).rejects.toThrow('DynamoDB is down');
    expect(logged(deps.logger, 'error', 'route failed')[0]?.extra[0]).toMatchObject({
      routeKey: '$connect',
      connectionId: CONNECTION_ID,
    });
  });
});

describe('$disconnect route', () => {
  it('removes every row of the connection: metadata, subscriptions and indexes', async () => {
    const deps = routeDeps();
    const authorizer = authorizerContext({ userId: 'alice', topics: ['users/alice/*', 'orders/*'] });
    await createConnectHandler(deps)(connectEvent({ authorizer }), context);
    await createSubscribeHandler(deps)(
      messageEvent({ action: 'subscribe', topics: ['users/alice/*', 'orders/eu/*'] }, { authorizer }),
      context,
    );
    expect(deps.store.rowCount()).toBeGreaterThan(1);

    const response = await createDisconnectHandler(deps)(disconnectEvent({ authorizer }), context);
    expect(response).toEqual({ statusCode: 200 });
    expect(deps.store.rowCount()).toBe(0);
    // No longer registered: the store refuses to change its subscriptions.
    await expect(deps.store.subscribe(CONNECTION_ID, [], 50)).rejects.toMatchObject({ code: 'internal' });
    expect(deps.metrics.total('Disconnected')).toBe(1);
  });

  it('logs the close code and reason', async () => {
    const deps = routeDeps();
    await createDisconnectHandler(deps)(disconnectEvent({ statusCode: 1006, reason: 'Going away' }), context);
    expect(logged(deps.logger, 'info', 'disconnected')[0]?.extra[0]).toEqual({
      connectionId: CONNECTION_ID,
      disconnectStatusCode: 1006,
      disconnectReason: 'Going away',
    });
  });

  it('succeeds for a connection that was never registered (disconnect is idempotent)', async () => {
    const deps = routeDeps();
    await expect(createDisconnectHandler(deps)(disconnectEvent(), context)).resolves.toEqual({
      statusCode: 200,
    });
    await expect(createDisconnectHandler(deps)(disconnectEvent(), context)).resolves.toEqual({
      statusCode: 200,
    });
  });

  it('logs and rethrows a store failure (row TTLs clean up later)', async () => {
    const deps = routeDeps();
    deps.store.removeConnection = async () => Promise.reject(new Error('throttled'));
    await expect(createDisconnectHandler(deps)(disconnectEvent(), context)).rejects.toThrow('throttled');
    expect(logged(deps.logger, 'error', 'route failed')).toHaveLength(1);
  });
});
