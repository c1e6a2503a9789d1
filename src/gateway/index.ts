export { createApp } from './app.ts';
export type { GatewayServices } from './services.ts';
