/** A handler that does nothing: the floor of a bundled module's load time. */
export const handler = async (): Promise<{ statusCode: number }> => ({ statusCode: 200 });
