export { startGateway } from './server.js';
export type {
  AuthorizerConfig,
  ConnectionsCall,
  CountingStats,
  GatewayFaults,
  GatewayHandle,
  GatewayLogLine,
  GatewayOptions,
  GatewayTls,
  InjectedFault,
  Integration,
  ThrottlingSettings,
} from './types.js';
