/**
 * terraform/modules/fanout/backend-contract.json, rendered from shared/backend/contract.ts for the
 * module's `route_backend = "http"` integrations: Terraform cannot import TypeScript, so it reads this
 * rendering with jsondecode(file()). `make tf-contract` writes it (scripts/terraform/cli.ts contract);
 * test/terraform/backend-contract.test.ts fails when the committed file differs from what the
 * contract renders, so the two cannot drift apart.
 */
import { join } from 'node:path';
import { contractDocument, PROOF_PATTERN, PROOF_PLACEHOLDER } from '../../shared/backend/contract.js';

export const CONTRACT_FILE = join('terraform', 'modules', 'fanout', 'backend-contract.json');
export const CONTRACT_COMMAND = 'make tf-contract';

/**
 * The file's text: contractDocument(), plus the two things Terraform needs to use it without
 * repeating them: the placeholder it replaces with the proof, and the pattern the proof must match
 * (a single-quoted static value in the request parameters, so no quote; RE2 accepts it as it is).
 */
export function renderBackendContract(): string {
  const document = {
    $comment: `Generated from shared/backend/contract.ts by ${CONTRACT_COMMAND}; do not edit. Read by the module's HTTP integrations (api.tf).`,
    ...contractDocument(),
    proof_placeholder: PROOF_PLACEHOLDER,
    proof_pattern: PROOF_PATTERN.source,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
