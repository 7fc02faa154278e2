import { MemoryConnectionStore } from '../../../shared/store/store-memory.js';
import { describeConnectionStoreContract } from '../../support/store-contract.js';

describeConnectionStoreContract('MemoryConnectionStore', async () => {
  const store = new MemoryConnectionStore();
  return { store, rowCount: async () => store.rowCount() };
});
