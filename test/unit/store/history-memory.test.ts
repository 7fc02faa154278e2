import { MemoryHistoryStore } from '../../../shared/store/history-memory';
import { describeHistoryStoreContract } from '../../support/history-contract';

describeHistoryStoreContract('MemoryHistoryStore', {
  make: async (retentionSeconds, clock) => new MemoryHistoryStore({ retentionSeconds, now: () => clock.now }),
});
