/**
 * `--trace FILE`: a debug log of a whole run. Every stanza sent and received
 * on every connection, and every note, one entry per line, written the moment
 * it happens (a run that hangs or crashes still leaves its log behind).
 *
 * It is fed by Transcript.record (src/session/transcript.ts), so it holds
 * exactly the text the transcripts hold, redacted before it got there: the
 * trace never sees raw bytes.
 *
 * Why a context (AsyncLocalStorage) rather than an option in StreamOptions:
 * connections are opened in some twenty places (login, registration, probe,
 * login costs, every scenario and raw protocol check), each building its
 * options by hand, and scenario transcripts are made by the scenario. An
 * option would have to be threaded through all of them, and a place that
 * forgot it would silently be missing from the log. Instead everything a run
 * does happens inside `sink.run(target, fn)`: every transcript created there
 * finds the sink, and nothing outside it (other runs, tests) does.
 *
 * Line format (continuation lines of multi-line text are indented):
 *   2024-05-01T10:00:00.123Z example.org xep0045.join #12 [alice/A] out <presence …/>
 * `#12` numbers the transcripts (one per connection, or one per scenario
 * shared by its connections) in the order they first write; `out` is sent by
 * xepcheck, `in` received from the server, `note` a remark of ours.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { closeSync, openSync, writeSync } from "node:fs";

export type TraceDirection = "in" | "out" | "note";

/** Writes one transcript's entries into the trace. */
export type TraceLog = (dir: TraceDirection, text: string, actor?: string) => void;

/** The trace file could not be opened or written. */
export class TraceError extends Error {
  override name = "TraceError";
}

interface TraceScope {
  sink: TraceSink;
  /** Target, then any sections inside it (e.g. a check id). */
  labels: string[];
}

const scope = new AsyncLocalStorage<TraceScope>();

export class TraceSink {
  private logs = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly file: string,
    /** undefined: stderr. */
    private readonly fd: number | undefined,
  ) {}

  /** Opens (truncates) FILE for the trace, mode 0600; "-" writes to stderr. */
  static open(file: string): TraceSink {
    if (file === "-") return new TraceSink(file, undefined);
    try {
      return new TraceSink(file, openSync(file, "w", 0o600));
    } catch (err) {
      throw new TraceError(`cannot write the trace to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  /** Runs `fn` with this trace active; `target` labels every entry written inside (the XMPP domain). */
  run<T>(target: string, fn: () => T): T {
    return scope.run({ sink: this, labels: [target] }, fn);
  }

  /** A numbered log for one transcript; the number is given at its first entry, so numbers follow the order of the run. */
  log(labels: string[]): TraceLog {
    let id: number | undefined;
    return (dir, text, actor) => {
      id ??= ++this.logs;
      const head = `${new Date().toISOString()} ${labels.join(" ")} #${id}${actor ? ` [${actor}]` : ""} ${dir}`;
      this.writeText(`${head} ${text.replace(/\r?\n/g, "\n    ")}\n`);
    };
  }

  private writeText(text: string): void {
    if (this.closed || this.failure) return;
    try {
      if (this.fd === undefined) process.stderr.write(text);
      else writeSync(this.fd, text);
    } catch (err) {
      // A debug log must not break the run; close() reports what went wrong.
      this.failure = err as Error;
    }
  }

  /** Closes the file; throws TraceError if a write failed (the log is incomplete). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.failure) {
      throw new TraceError(`the trace ${this.file} is incomplete: ${(this.failure as NodeJS.ErrnoException).code ?? this.failure.message}`);
    }
  }
}

/** Runs `fn` as a section of the active trace (its entries carry `label` too); without a trace, just runs it. */
export function traceSection<T>(label: string, fn: () => T): T {
  const current = scope.getStore();
  return current ? scope.run({ ...current, labels: [...current.labels, label] }, fn) : fn();
}

/** A log for a transcript created here, if a trace is active (inside TraceSink.run). */
export function traceLogHere(): TraceLog | undefined {
  const current = scope.getStore();
  return current?.sink.log(current.labels);
}
