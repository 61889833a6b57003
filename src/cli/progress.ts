/**
 * Progress of a run on stderr, fed by the runner's hooks. On a terminal: one
 * status line per running target (`name  37/128  xep0313.archive-query`),
 * redrawn in place at most ten times a second and erased before anything
 * else is written and at the end. In CI logs (not a terminal, $CI set, as
 * GitHub Actions, GitLab CI and most others do): plain lines at a target's
 * start, at every quarter of its checks and at its end, no escape codes.
 * Otherwise (output piped or redirected) and with --quiet: nothing.
 */
import type { Verdict } from "../checks/types.js";
import type { TargetOutcome, TargetReport } from "../report/types.js";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width; lines are cut to it so none wraps (wrapping would break the redraw). */
  columns?: number;
}

export interface ProgressOptions {
  stream: ProgressStream;
  quiet?: boolean;
  /** TERM decides whether a terminal understands cursor movement (dumb does not); CI whether plain lines are wanted. */
  env?: { TERM?: string; CI?: string };
  /** Clock and timer, injectable for tests. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  /** Minimum time between two redraws. */
  redrawMs?: number;
}

/** How a target's run ended, for its closing line. */
export interface TargetDoneSummary {
  outcome: TargetOutcome;
  durationMs: number;
  verdicts: Partial<Record<Verdict, number>>;
}

export function targetDoneSummary(target: TargetReport): TargetDoneSummary {
  const verdicts: Partial<Record<Verdict, number>> = {};
  for (const c of target.checks) verdicts[c.verdict] = (verdicts[c.verdict] ?? 0) + 1;
  return { outcome: target.outcome, durationMs: target.durationMs, verdicts };
}

interface TargetState {
  total: number;
  done: number;
  /** Checks started and not finished, oldest first. */
  running: string[];
  /** Quarters of the checks reported in plain mode (0–3). */
  quarter: number;
}

const ESC = "\u001b[";
const VERDICT_ORDER: Verdict[] = ["pass", "warn", "fail", "na", "skip", "error"];

function doneLine(name: string, s: TargetDoneSummary): string {
  const counts = VERDICT_ORDER.filter((v) => s.verdicts[v]).map((v) => `${s.verdicts[v]} ${v}`);
  const how = s.outcome === "completed" ? "done" : s.outcome;
  return `${name}: ${how} in ${(s.durationMs / 1000).toFixed(1)} s${counts.length ? `: ${counts.join(", ")}` : ""}`;
}

export class Progress {
  private readonly mode: "tty" | "plain" | "quiet";
  private readonly targets = new Map<string, TargetState>();
  private readonly now: () => number;
  private readonly setTimer: NonNullable<ProgressOptions["setTimer"]>;
  private readonly redrawMs: number;
  /** Lines of the status block on screen now (the cursor sits below them). */
  private drawn = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private pending: { cancel(): void } | undefined;

  constructor(private readonly options: ProgressOptions) {
    const { stream, quiet, env = process.env } = options;
    this.mode = quiet ? "quiet" : stream.isTTY && env.TERM !== "dumb" ? "tty" : stream.isTTY || env.CI ? "plain" : "quiet";
    this.now = options.now ?? (() => performance.now());
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref(); // progress never keeps the process alive
        return { cancel: () => clearTimeout(t) };
      });
    this.redrawMs = options.redrawMs ?? 100;
  }

  targetStarted(name: string, total: number): void {
    this.targets.set(name, { total, done: 0, running: [], quarter: 0 });
    if (this.mode === "plain") this.line(`${name}: started, ${total} check${total === 1 ? "" : "s"}`);
    else this.changed();
  }

  checkStarted(name: string, checkId: string): void {
    const t = this.targets.get(name);
    if (!t || this.mode !== "tty") return;
    t.running.push(checkId);
    this.changed();
  }

  checkDone(name: string, result: { id: string }, done: number, total: number): void {
    const t = this.targets.get(name);
    if (!t) return;
    t.running = t.running.filter((id) => id !== result.id);
    t.done = done;
    t.total = total;
    if (this.mode === "plain") {
      const quarter = total > 0 ? Math.floor((done * 4) / total) : 0;
      if (quarter > t.quarter && quarter < 4) this.line(`${name}: ${done}/${total} checks (${Math.floor((done * 100) / total)}%)`);
      t.quarter = Math.max(t.quarter, quarter);
    } else this.changed();
  }

  targetDone(name: string, summary: TargetDoneSummary): void {
    this.targets.delete(name);
    if (this.mode !== "quiet") this.log(doneLine(name, summary));
  }

  /** Writes a message (a warning, a target's end) without tearing the status block; --quiet silences progress, not messages. */
  log(text: string): void {
    this.line(text);
    if (this.mode === "tty") this.changed();
  }

  /** Erases the status block for good: call before the summary is printed and when the run stops. */
  end(): void {
    this.pending?.cancel();
    this.pending = undefined;
    this.targets.clear();
    if (this.mode === "tty") this.clear();
  }

  private line(text: string): void {
    if (this.mode === "tty") this.clear();
    this.options.stream.write(text + "\n");
  }

  /** Redraws now if the last redraw is old enough, else once the interval has passed. */
  private changed(): void {
    if (this.mode !== "tty" || this.pending) return;
    const wait = this.lastDraw + this.redrawMs - this.now();
    if (wait <= 0) {
      this.draw();
      return;
    }
    this.pending = this.setTimer(() => {
      this.pending = undefined;
      this.draw();
    }, wait);
  }

  private clear(): void {
    if (this.drawn === 0) return;
    this.options.stream.write(this.eraseBlock());
    this.drawn = 0;
  }

  /** Up to the first line of the block (cursor up: VT100, understood everywhere), then erase to the end of the screen. */
  private eraseBlock(): string {
    return this.drawn ? `${ESC}${this.drawn}A\r${ESC}0J` : "";
  }

  private draw(): void {
    this.lastDraw = this.now();
    const width = Math.max(20, (this.options.stream.columns ?? 80) - 1);
    // Columns line up across targets: names padded, counts right-aligned.
    const nameWidth = Math.max(0, ...[...this.targets.keys()].map((n) => n.length));
    const countWidth = Math.max(0, ...[...this.targets.values()].map((t) => 2 * String(t.total).length + 1));
    const lines = [...this.targets.entries()].map(([name, t]) => {
      const counts = `${t.done}/${t.total}`.padStart(countWidth);
      const current = t.running.length
        ? `${t.running[t.running.length - 1]}${t.running.length > 1 ? ` (+${t.running.length - 1})` : ""}`
        : t.done === 0
          ? "connecting…"
          : "";
      return `${name.padEnd(nameWidth)}  ${counts}  ${current}`.trimEnd().slice(0, width);
    });
    this.options.stream.write(this.eraseBlock() + lines.map((l) => l + "\n").join(""));
    this.drawn = lines.length;
  }
}
