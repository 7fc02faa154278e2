export { startGateway } from './server.js';
export type {
  AuthorizerConfig,
  ConnectionsCall,
  GatewayFaults,
  GatewayHandle,
  GatewayLogLine,
  GatewayOptions,
  GatewayTls,
  InjectedFault,
  Integration,
  ThrottlingSettings,
} from './types.js';
