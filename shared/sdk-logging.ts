/**
 * The AWS SDK's logger middleware hands every call's input and output to the client's logger,
 * redacted by the command's schema: it builds that redacted copy of the whole response before it
 * looks whether the logger does anything (the default one does not). For the fan-out's audience
 * Queries that copy walks a thousand rows a page, costing more CPU than reading them. A client whose
 * logger is the default loses nothing by going without it.
 */
interface WithMiddleware {
  middlewareStack: { remove(toRemove: string): boolean };
}

/** `client` without the SDK's logger middleware (its errors still reach the caller as before). */
export function withoutSdkLogger<Client extends WithMiddleware>(client: Client): Client {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
