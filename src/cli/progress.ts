/**
 * A one-line spinner on stderr while a step runs, only on a TTY (pipes and CI logs get nothing).
 * Hand-written: ten lines, and the spinner libraries bring colour and terminal detection we skip.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private text = '';

  constructor(private readonly enabled: boolean, private readonly stream: NodeJS.WriteStream = process.stderr) {}

  step(text: string): void {
    this.text = text;
    if (!this.enabled) return;
    this.timer ??= setInterval(() => this.draw(), 80);
    this.draw();
  }

  private draw(): void {
    const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
    this.stream.write(`\r\x1b[2K${frames[this.frame++ % frames.length]} ${this.text}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
