import { BenchClient } from '../client.ts';

/** What the bench reads of `GET /v1/pool`. */
export interface PoolView {
  containers: Array<{ id: string; function: string; state: string; fromStemCell?: boolean }>;
  stemCells: Array<{ state: string }>;
}

export type InvocationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** The slice of Hearth's public HTTP API the bench uses, over one keep-alive client. */
export class HearthApi {
  readonly client: BenchClient;

  constructor(readonly url: string) {
    this.client = new BenchClient(url);
  }

  async deploy(name: string, source: string, config: object = {}): Promise<void> {
    const res = await this.client.request('POST', '/v1/functions', JSON.stringify({ name, source, config }));
    if (res.status !== 201) throw new Error(`deploy ${name}: ${res.status} ${res.text}`);
  }

  async remove(name: string): Promise<void> {
    const res = await this.client.request('DELETE', `/v1/functions/${name}`);
    if (res.status >= 300 && res.status !== 404) throw new Error(`remove ${name}: ${res.status} ${res.text}`);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.client.request('GET', `/v1/functions/${name}`)).status === 200;
  }

  /** A sync invoke; throws unless 200. Returns whether Hearth says it started a container for it. */
  async invoke(name: string, body = '{}'): Promise<{ coldStart: boolean }> {
    const res = await this.client.request('POST', `/v1/functions/${name}/invoke`, body);
    if (res.status !== 200) throw new Error(`invoke ${name}: ${res.status} ${res.text}`);
    return { coldStart: res.headers['x-hearth-cold-start'] === 'true' };
  }

  /** An async invoke; throws unless 202. Returns the invocation id. */
  async submit(name: string, body = '{}'): Promise<string> {
    const res = await this.client.request('POST', `/v1/functions/${name}/invocations`, body);
    if (res.status !== 202) throw new Error(`submit ${name}: ${res.status} ${res.text}`);
    return (JSON.parse(res.text) as { id: string }).id;
  }

  async status(id: string): Promise<InvocationStatus> {
    const res = await this.client.request('GET', `/v1/invocations/${encodeURIComponent(id)}`);
    if (res.status !== 200) throw new Error(`invocation ${id}: ${res.status} ${res.text}`);
    return (JSON.parse(res.text) as { status: InvocationStatus }).status;
  }

  async pool(): Promise<PoolView> {
    const res = await this.client.request('GET', '/v1/pool');
    if (res.status !== 200) throw new Error(`pool: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as PoolView;
  }

  close(): void {
    this.client.close();
  }
}
