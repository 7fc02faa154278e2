import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import { LOCAL_ENDPOINTS_FILE, type PlatformEndpoints } from '@fanout/protocol';
import { CommandError } from './errors.js';
import { localPlatform } from './local-config.js';
import { stringOutput, terraformOutputs } from './terraform.js';

/** Which dead-letter queue: the fan-out function's, or the EventBridge target's. */
export type DlqName = 'fanout' | 'events';

/** Where `fanout dlq` works, as given on the command line. */
export interface WhereOptions {
  config?: string;
  aws?: boolean;
  events?: boolean;
  queueUrl?: string;
  dlqUrl?: string;
  terraformDir?: string;
  region?: string;
  endpoint?: string;
}

/** The queues `fanout dlq` reads and writes, and how to reach them. */
export interface DlqTarget {
  dlq: DlqName;
  /** `local`: the platform of `.fanout/local.json`; `aws`: your AWS configuration. */
  mode: 'local' | 'aws';
  dlqUrl: string;
  /** The fan-out queue, where a redrive sends letters (list and show do without it). */
  queueUrl: string | undefined;
  client: SQSClientConfig;
}

/**
 * Resolves the queues from, in order: `--dlq-url`/`--queue-url`; the Terraform outputs when
 * `--terraform-dir` is given (`fanout_dlq_url`, `events_dlq_url`, `fanout_queue_url`, `region`);
 * `.fanout/local.json` unless `--aws` or `--terraform-dir` is given. Without a local file, or with
 * `--aws`, the SDK's usual credential chain and region apply.
 */
export async function resolveTarget(options: WhereOptions, env: NodeJS.ProcessEnv): Promise<DlqTarget> {
  const dlq: DlqName = options.events ? 'events' : 'fanout';
  const local = options.aws || options.terraformDir ? undefined : localConfig(options.config);
  const outputs = options.terraformDir ? await terraformOutputs(options.terraformDir, env) : undefined;
  const outputName = dlq === 'events' ? 'events_dlq_url' : 'fanout_dlq_url';

  let dlqUrl = options.dlqUrl;
  if (!dlqUrl && outputs) {
    dlqUrl = stringOutput(outputs, outputName);
    if (!dlqUrl) {
      throw new CommandError(
        'terraform_output_missing',
        `the stack in ${options.terraformDir} has no output ${outputName} (has it been applied?); pass --dlq-url instead`,
      );
    }
  }
  if (!dlqUrl && local) {
    if (dlq === 'events') {
      // docs/architecture.md: the local EventBridge has no target DLQ, so there is nothing to read.
      throw new CommandError(
        'no_events_dlq',
        'the local platform has no events DLQ (EventBridge target dead letters exist on AWS only): use --aws, or pass --dlq-url',
      );
    }
    dlqUrl = local.dlqUrl;
  }
  if (!dlqUrl) {
    throw new CommandError(
      'no_dlq_url',
      `no dead-letter queue: pass --dlq-url (the Terraform output ${outputName}) or --terraform-dir DIR, or start \`fanout dev\` to write ${LOCAL_ENDPOINTS_FILE}`,
    );
  }
  const queueUrl =
    options.queueUrl ?? (outputs ? stringOutput(outputs, 'fanout_queue_url') : undefined) ?? local?.queueUrl;
  const region =
    options.region ??
    (outputs ? stringOutput(outputs, 'region') : undefined) ??
    local?.region ??
    regionOfQueueUrl(dlqUrl);
  const endpoint = options.endpoint ?? local?.sqsEndpoint;
  return {
    dlq,
    mode: local ? 'local' : 'aws',
    dlqUrl,
    queueUrl,
    client: {
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
      // The local SQS checks no signature; AWS uses the normal credential chain.
      ...(local && !options.endpoint
        ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
      // Fail over a dead endpoint in seconds rather than hanging on the connect.
      requestHandler: { connectionTimeout: 5_000 },
    },
  };
}

/** `.fanout/local.json` (or `--config`): required when named, optional when it is the default. */
const localConfig = (path: string | undefined): PlatformEndpoints | undefined => localPlatform(path);

/**
 * The region in an SQS queue URL (`https://sqs.<region>.amazonaws.com/...`, or the legacy
 * `https://<region>.queue.amazonaws.com/...`), so a URL from the Terraform outputs is enough.
 */
export function regionOfQueueUrl(url: string): string | undefined {
  const match = /^https:\/\/(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?\//.exec(url);
  return match?.[1] ?? match?.[2];
}
