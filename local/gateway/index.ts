export { startGateway } from './server.js';
export type {
  AuthorizerConfig,
  ConnectionsCall,
  GatewayFaults,
  GatewayHandle,
  GatewayLogLine,
  GatewayOptions,
  InjectedFault,
  Integration,
} from './types.js';
