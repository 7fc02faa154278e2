/**
 * The fanout local runtime: the whole platform on loopback, with stand-ins that speak the AWS wire
 * APIs (API Gateway WebSocket and `@connections`, EventBridge, SQS, DynamoDB) running the real
 * Lambda bundles. It owns `fanout dev`, which the CLI loads from here by package name.
 */
export {
  DEV_ERROR_CODES,
  DEV_OPTION_KEYS,
  DevError,
  type DevOptions,
  devCommand,
  type Output,
} from './dev/command.js';
export {
  FUNCTION_NAMES,
  type FunctionName,
  type LocalPlatform,
  type LocalPlatformOptions,
  startLocalPlatform,
} from './dev/platform.js';
