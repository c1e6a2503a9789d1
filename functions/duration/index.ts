import ms from 'ms';

interface DurationEvent {
  text?: string;
  millis?: number;
}

/**
 * Converts between human durations and milliseconds with the `ms` package (CommonJS, bundled into
 * the function's ESM image by esbuild): {"text":"2 days"} → {"millis":172800000}.
 */
export const handler = async (event: DurationEvent | null) => {
  if (typeof event?.text === 'string') {
    const millis = ms(event.text);
    if (millis === undefined) throw new Error(`not a duration: ${event.text}`);
    return { millis };
  }
  if (typeof event?.millis === 'number') return { text: ms(event.millis, { long: true }) };
  throw new Error('give {"text": "2 days"} or {"millis": 172800000}');
};
