import cliProgress from 'cli-progress';

export interface ProgressUpdate {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly imagesPerSecond: number;
}

/** Where log lines go when the caller gives no `log`. */
export function logToStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Where a run's progress goes: a bar or lines (`createProgress`), or any other sink. */
export interface Progress {
  update(update: ProgressUpdate): void;
  stop(): void;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/**
 * A progress bar (step, epoch, loss, images/s, ETA) on a terminal; plain lines elsewhere (logs,
 * CI), at most one every `lineEverySeconds`.
 */
export function createProgress(label: string, total: number, startStep: number, stream: NodeJS.WriteStream = process.stderr, lineEverySeconds = 10): Progress {
  const started = performance.now();
  /** Seconds left, from the average time per step since the start. */
  const secondsLeft = (step: number) => ((total - step) * (performance.now() - started)) / 1000 / Math.max(step - startStep, 1);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} {bar} {value}/{total} | epoch {epoch} | loss {loss} | {speed} img/s | ETA {etaText}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, startStep, { epoch: 0, loss: '-', speed: '-', etaText: '?' });
    return {
      update: ({ step, epoch, loss, imagesPerSecond }) => {
        bar.update(step, { epoch, loss: loss.toFixed(3), speed: imagesPerSecond.toFixed(2), etaText: formatDuration(secondsLeft(step)) });
      },
      stop: () => bar.stop(),
    };
  }
  let lastLine = -Infinity;
  return {
    update: ({ step, epoch, loss, imagesPerSecond }) => {
      const now = performance.now();
      if (now - lastLine < lineEverySeconds * 1000 && step < total) return;
      lastLine = now;
      stream.write(`[adl] ${label} step ${step}/${total} epoch ${epoch} loss ${loss.toFixed(3)} ${imagesPerSecond.toFixed(2)} img/s ETA ${formatDuration(secondsLeft(step))}\n`);
    },
    stop: () => undefined,
  };
}
