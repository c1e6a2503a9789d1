/** Container networking: `none` is runc's fresh namespace (loopback only); `bridge` is built here. */
export { BridgeNetwork, BRIDGE_PREFIX, defaultSubnet, type Attachment, type BridgeNetworkOptions } from './bridge-network.ts';
export { addNetworkList, delNetworkList, findCniPath, type NetworkConfList, type CniResult } from './cni.ts';
export { installFirewall, removeFirewall } from './firewall.ts';
export { createNetns, deleteNetns, listNetns, netnsPath } from './netns.ts';

export type NetworkMode = 'none' | 'bridge';
export { writeResolvConf } from './resolver.ts';
