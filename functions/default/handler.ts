import { fromPowertools, observability } from '../../shared/observability/powertools.js';
import { createDefaultHandler } from '../../shared/routes/default.js';

// `$default` only answers pings and explains unknown actions: it needs no store.
export const handler = createDefaultHandler(fromPowertools(observability('default')));
