/*
 * Progress on stderr: a redrawn bar on a terminal; otherwise a quiet line every few seconds, so logs
 * of a batch job stay short.
 */

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

const REDRAW_MS = 100;
const LINE_MS = 10_000;
const BAR_WIDTH = 24;

export class Progress {
  private label = '';
  private unit = '';
  private total = 0;
  private done = 0;
  private startedAt = 0;
  private lastDraw = 0;
  private readonly format: (value: number) => string;

  constructor(
    private readonly sink: ProgressSink,
    private readonly enabled = true,
  ) {
    this.format = (value) => Math.round(value).toLocaleString('en-US');
  }

  start(label: string, total: number, unit: string, formatValue?: (value: number) => string) {
    this.finishLine();
    Object.assign(this, { label, total, unit, done: 0, startedAt: performance.now(), lastDraw: 0 });
    this.customFormat = formatValue;
    if (this.enabled && this.sink.isTTY !== true) {
      this.sink.write(`${label}: ${this.show(total)} ${unit}\n`);
    }
  }

  private customFormat: ((value: number) => string) | undefined;

  private show(value: number): string {
    return (this.customFormat ?? this.format)(value);
  }

  advance(by: number): void {
    this.done += by;
    const at = performance.now();
    if (at - this.lastDraw >= (this.sink.isTTY === true ? REDRAW_MS : LINE_MS)) {
      this.lastDraw = at;
      this.draw(at);
    }
  }

  /** Ends the phase with its totals. */
  end(): void {
    this.draw(performance.now(), true);
    this.label = '';
  }

  private draw(at: number, final = false): void {
    if (!this.enabled || this.label === '') {
      return;
    }
    const seconds = Math.max((at - this.startedAt) / 1000, 0.001);
    const rate = this.done / seconds;
    const share = this.total > 0 ? Math.min(this.done / this.total, 1) : 1;
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    const counts = `${this.show(this.done)}/${this.show(this.total)} ${this.unit}, ${this.show(rate)} ${this.unit}/s`;
    if (this.sink.isTTY === true) {
      const filled = Math.round(share * BAR_WIDTH);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
      const tail = final ? `in ${clock(seconds)}` : `ETA ${clock(eta)}`;
      this.sink.write(
        `\r\x1b[2K${this.label} ${bar} ${Math.floor(share * 100)}% ${counts} ${tail}`,
      );
      if (final) {
        this.sink.write('\n');
      }
    } else {
      const tail = final ? `done in ${clock(seconds)}` : `ETA ${clock(eta)}`;
      this.sink.write(`${this.label}: ${Math.floor(share * 100)}% ${counts}, ${tail}\n`);
    }
  }

  private finishLine(): void {
    if (this.label !== '') {
      this.end();
    }
  }
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;
}
