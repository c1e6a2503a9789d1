import { bodyLimit } from 'hono/body-limit';
import { HearthError } from '../../errors/index.ts';

/** hono's body limit, answering with our `payload_too_large` error. */
export function limitBody(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HearthError('payload_too_large', `request body exceeds ${maxBytes} bytes`);
    },
  });
}

export const MB = 1024 * 1024;
