export { measureProxyFloor, startProxyFloor, type ProxyFloor, type ProxyServer } from './proxy.ts';
export { measureBullmqFloor, type BullmqFloor } from './bullmq.ts';
export { BareRunc, measureRuncFloor, type RuncFloor } from './runc.ts';
export { measureBullmqHttpFloor } from './bullmq-http.ts';
