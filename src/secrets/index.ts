export { SecretCipher } from './cipher.ts';
export { loadSecretKey } from './key-file.ts';
export { SecretStore, SECRET_NAME, MAX_SECRET_BYTES } from './secret-store.ts';
export type { SecretInfo } from './secret-store.ts';
