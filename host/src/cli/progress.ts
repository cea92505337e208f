/** A one-line progress display for long commands; silent when stderr is not a terminal. */
export class Progress {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled = stream.isTTY === true,
  ) {}

  /** Redraws at most ten times a second. */
  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(`\r\x1b[2K${this.label}: ${text}`);
  }

  done(text?: string): void {
    if (!this.enabled) return;
    if (text !== undefined) this.update(text, true);
    if (this.drawn) this.stream.write('\n');
  }
}
