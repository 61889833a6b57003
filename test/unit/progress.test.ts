import { describe, expect, it } from "vitest";
import { Progress, targetDoneSummary, type ProgressOptions } from "../../src/cli/progress.js";
import type { TargetReport } from "../../src/report/types.js";

/** A stream that records what was written. */
class PlainStream {
  isTTY = false;
  text = "";
  write(s: string) {
    this.text += s;
    return true;
  }
}

/**
 * A terminal that interprets what Progress writes (text, \n, \r, cursor up,
 * erase to end of screen) into the screen a person would see; any other
 * escape sequence fails the test.
 */
class FakeTerminal {
  isTTY = true;
  columns = 60;
  raw = "";
  private screen: string[] = [""];
  private row = 0;
  private col = 0;

  write(s: string) {
    this.raw += s;
    for (let i = 0; i < s.length; ) {
      const esc = /^\u001b\[(\d*)([A-Za-z])/.exec(s.slice(i));
      if (esc) {
        const n = Number(esc[1] || 1);
        if (esc[2] === "A") this.row = Math.max(0, this.row - n);
        else if (esc[2] === "J" && (esc[1] === "" || esc[1] === "0")) {
          this.screen[this.row] = this.screen[this.row]!.slice(0, this.col);
          this.screen.length = this.row + 1;
        } else throw new Error(`unexpected escape sequence ${JSON.stringify(esc[0])}`);
        i += esc[0].length;
        continue;
      }
      const ch = s[i++]!;
      if (ch === "\n") {
        this.row++;
        this.col = 0;
        if (this.screen.length <= this.row) this.screen.push("");
      } else if (ch === "\r") this.col = 0;
      else {
        const line = this.screen[this.row]!.padEnd(this.col);
        this.screen[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
        this.col++;
      }
    }
    return true;
  }

  /** The lines on screen, without the empty line the cursor waits on. */
  visible(): string[] {
    return this.screen.slice(0, this.screen[this.screen.length - 1] === "" ? -1 : undefined);
  }
}

/** A clock that only moves when told, and timers that fire when the test says. */
function manualTime() {
  let t = 1000;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => t,
    setTimer: ((fn, ms) => {
      const timer = { at: t + ms, fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    }) satisfies ProgressOptions["setTimer"],
    pending: () => timers.filter((x) => !x.cancelled).length,
    advance(ms: number) {
      t += ms;
      for (const timer of timers) {
        if (!timer.cancelled && timer.at <= t) {
          timer.cancelled = true;
          timer.fn();
        }
      }
    },
  };
}

const summary = { outcome: "completed" as const, durationMs: 1234, verdicts: { pass: 6, fail: 1, skip: 1 } };

describe("Progress on a non-terminal (CI logs)", () => {
  it("writes plain lines at the start, every quarter and the end, and nothing per check", () => {
    const stream = new PlainStream();
    const p = new Progress({ stream, env: { CI: "true" } });
    p.targetStarted("prosody.test", 8);
    for (let done = 1; done <= 8; done++) {
      p.checkStarted("prosody.test", `check${done}`);
      p.checkDone("prosody.test", { id: `check${done}` }, done, 8);
    }
    p.targetDone("prosody.test", summary);
    p.end();
    expect(stream.text.split("\n")).toEqual([
      "prosody.test: started, 8 checks",
      "prosody.test: 2/8 checks (25%)",
      "prosody.test: 4/8 checks (50%)",
      "prosody.test: 6/8 checks (75%)",
      "prosody.test: done in 1.2 s: 6 pass, 1 fail, 1 skip",
      "",
    ]);
    expect(stream.text).not.toContain("\u001b");
  });

  it("reports each quarter once even when a check crosses several, with the real percentage", () => {
    const stream = new PlainStream();
    const p = new Progress({ stream, env: { CI: "true" } });
    p.targetStarted("a", 3);
    for (let done = 1; done <= 3; done++) p.checkDone("a", { id: `c${done}` }, done, 3);
    expect(stream.text).toBe("a: started, 3 checks\na: 1/3 checks (33%)\na: 2/3 checks (66%)\n");
  });

  it("writes nothing when not a terminal and not in CI (output piped or redirected)", () => {
    const stream = new PlainStream();
    const p = new Progress({ stream, env: {} });
    p.targetStarted("a", 2);
    p.checkDone("a", { id: "x" }, 1, 2);
    p.targetDone("a", summary);
    p.end();
    expect(stream.text).toBe("");
  });

  it("is plain on a terminal that says TERM=dumb", () => {
    const terminal = new FakeTerminal();
    const p = new Progress({ stream: terminal, env: { TERM: "dumb" } });
    p.targetStarted("a", 4);
    p.checkStarted("a", "x");
    p.checkDone("a", { id: "x" }, 1, 4);
    expect(terminal.raw).toBe("a: started, 4 checks\na: 1/4 checks (25%)\n");
  });
});

describe("Progress with --quiet", () => {
  it("writes no progress, on a terminal or not, but still the messages", () => {
    for (const stream of [new PlainStream(), new FakeTerminal()]) {
      const p = new Progress({ stream, quiet: true, env: { CI: "1" } });
      p.targetStarted("a", 2);
      p.checkStarted("a", "x");
      p.checkDone("a", { id: "x" }, 1, 2);
      p.log("xepcheck: could not log in to a");
      p.targetDone("a", summary);
      p.end();
      expect(stream instanceof FakeTerminal ? stream.raw : stream.text).toBe("xepcheck: could not log in to a\n");
    }
  });
});

describe("Progress on a terminal", () => {
  function setup() {
    const terminal = new FakeTerminal();
    const time = manualTime();
    const p = new Progress({ stream: terminal, env: { TERM: "xterm-256color" }, now: time.now, setTimer: time.setTimer });
    return { terminal, time, p };
  }

  it("shows one line per running target with checks done, total and the current check, and erases them at the end", () => {
    const { terminal, time, p } = setup();
    p.targetStarted("prosody.test", 128);
    time.advance(200);
    p.targetStarted("ejabberd.test", 96);
    time.advance(200);
    for (let i = 1; i <= 37; i++) p.checkDone("prosody.test", { id: `c${i}` }, i, 128);
    p.checkStarted("prosody.test", "xep0313.archive-query");
    time.advance(200);
    expect(terminal.visible()).toEqual(["prosody.test    37/128  xep0313.archive-query", "ejabberd.test     0/96  connecting…"]);

    p.checkStarted("ejabberd.test", "xep0280.copies");
    p.checkStarted("ejabberd.test", "xep0198.resume");
    p.checkDone("ejabberd.test", { id: "rfc6120.bind" }, 5, 96);
    time.advance(200);
    expect(terminal.visible()[1]).toBe("ejabberd.test     5/96  xep0198.resume (+1)");

    p.targetDone("prosody.test", summary);
    time.advance(200);
    expect(terminal.visible()).toEqual(["prosody.test: done in 1.2 s: 6 pass, 1 fail, 1 skip", "ejabberd.test   5/96  xep0198.resume (+1)"]);

    p.end();
    expect(terminal.visible()).toEqual(["prosody.test: done in 1.2 s: 6 pass, 1 fail, 1 skip"]);
    expect(time.pending()).toBe(0);
  });

  it("erases the block before writing a line of its own, then draws it again below", () => {
    const { terminal, time, p } = setup();
    p.targetStarted("a", 10);
    p.checkStarted("a", "check.one");
    time.advance(200);
    expect(terminal.visible()).toEqual(["a   0/10  check.one"]);
    p.log("a: could not clean up: the room is gone");
    expect(terminal.visible()).toEqual(["a: could not clean up: the room is gone"]);
    time.advance(200);
    expect(terminal.visible()).toEqual(["a: could not clean up: the room is gone", "a   0/10  check.one"]);
  });

  it("redraws at most once per interval: changes in between wait for one later redraw", () => {
    const { terminal, time, p } = setup();
    p.targetStarted("a", 10);
    expect(terminal.visible()).toEqual(["a   0/10  connecting…"]);
    const writes = terminal.raw.length;
    for (let i = 1; i <= 5; i++) {
      time.advance(10);
      p.checkDone("a", { id: `c${i}` }, i, 10);
    }
    expect(terminal.raw.length).toBe(writes); // nothing drawn yet
    expect(time.pending()).toBe(1);
    time.advance(50);
    expect(terminal.visible()).toEqual(["a   5/10"]);
  });

  it("cuts lines to the terminal width so none wraps", () => {
    const { terminal, p } = setup();
    terminal.columns = 30;
    p.targetStarted("a-very-long-target-name.example", 10);
    p.checkStarted("a-very-long-target-name.example", "xep0313.archive-query");
    p.end();
    const status = terminal.raw.split("\n").find((l) => l.includes("a-very-long"))!;
    expect(status.replace(/\u001b\[\d*[A-Za-z]|\r/g, "")).toHaveLength(29);
  });
});

describe("targetDoneSummary", () => {
  it("counts the verdicts of a target's checks", () => {
    const target = {
      outcome: "interrupted",
      durationMs: 500,
      checks: [{ verdict: "pass" }, { verdict: "pass" }, { verdict: "error" }],
    } as unknown as TargetReport;
    expect(targetDoneSummary(target)).toEqual({ outcome: "interrupted", durationMs: 500, verdicts: { pass: 2, error: 1 } });
    const stream = new PlainStream();
    new Progress({ stream, env: { CI: "1" } }).targetDone("a", targetDoneSummary(target));
    expect(stream.text).toBe("a: interrupted in 0.5 s: 2 pass, 1 error\n");
  });
});
