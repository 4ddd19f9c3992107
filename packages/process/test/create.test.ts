import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@loop/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEVNULL, PIPE, STDOUT, createSubprocessExec, createSubprocessShell } from "../src/index.js";
import { checkNoLeaks, text } from "./helpers.js";

checkNoLeaks();

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "loop-process-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a program that cannot be started fails at the call", () => {
  test("a missing path: ENOENT, with the program's name", async () => {
    const error = await run(function* () {
      try {
        yield* createSubprocessExec("/nonexistent/loop-no-such-program", ["x"]);
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
      throw new Error("started");
    });
    expect(error.code).toBe("ENOENT");
    expect(error.message).toContain("/nonexistent/loop-no-such-program");
  });

  test("a name not on the PATH: ENOENT", async () => {
    await expect(run(createSubprocessExec("loop-no-such-program-anywhere"))).rejects.toMatchObject({
      code: "ENOENT",
      message: expect.stringContaining("loop-no-such-program-anywhere"),
    });
  });

  test("a file that is not executable: EACCES", async () => {
    const script = join(dir, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    await expect(run(createSubprocessExec(script))).rejects.toMatchObject({ code: "EACCES", message: expect.stringContaining(script) });
  });

  test("with stderr merged into a stdout pipe, still ENOENT and EACCES at the call", async () => {
    const script = join(dir, "not-executable-2.sh");
    writeFileSync(script, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    const merged = { stdout: PIPE, stderr: STDOUT };
    await expect(run(createSubprocessExec("loop-no-such-program-anywhere", [], merged))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(run(createSubprocessExec(script, [], merged))).rejects.toMatchObject({ code: "EACCES" });
  });

  test("a missing working directory is named as such", async () => {
    await expect(run(createSubprocessExec("/bin/true", [], { cwd: join(dir, "missing") }))).rejects.toMatchObject({
      code: "ENOENT",
      message: expect.stringContaining("working directory"),
    });
  });
});

describe("bad arguments throw at the call", () => {
  test("each names the argument", () => {
    expect(() => createSubprocessExec("")).toThrow(/program must be a non-empty string/);
    expect(() => createSubprocessExec("ls", "-l" as never)).toThrow(TypeError);
    expect(() => createSubprocessExec("ls", [1 as never])).toThrow(/args\[0\] must be a string/);
    expect(() => createSubprocessExec("ls", [], { stdin: STDOUT })).toThrow(RangeError);
    expect(() => createSubprocessExec("ls", [], { stdout: -7 })).toThrow(/stdout must be PIPE/);
    expect(() => createSubprocessExec("ls", [], { stdout: "pipe" as never })).toThrow(TypeError);
    expect(() => createSubprocessExec("ls", [], { limit: 0 })).toThrow(RangeError);
    expect(() => createSubprocessExec("ls", [], { env: { A: 1 as never } })).toThrow(/env.A must be a string/);
    expect(() => createSubprocessExec("ls", [], { killSignal: "SIGNOPE" })).toThrow(/unknown signal/);
    expect(() => createSubprocessExec("ls", [], { gracePeriodMs: -1 })).toThrow(RangeError);
    expect(() => createSubprocessShell("")).toThrow(TypeError);
  });
});

describe("standard streams", () => {
  test("STDOUT sends stderr down the stdout pipe, in the order the child wrote", async () => {
    const [out, err, streams] = await run(function* () {
      const child = yield* createSubprocessExec("/bin/sh", ["-c", "echo one; echo two >&2; echo three; echo four >&2"], { stdout: PIPE, stderr: STDOUT });
      const [o, e] = yield* child.communicate();
      return [o, e, child.stderr];
    });
    expect(text(out)).toBe("one\ntwo\nthree\nfour\n");
    expect(err).toBeNull();
    expect(streams).toBeNull();
  });

  test("STDOUT with stdout in a file puts both there", async () => {
    const file = join(dir, "both.txt");
    const fd = openSync(file, "w");
    try {
      await run(function* () {
        const child = yield* createSubprocessExec("/bin/sh", ["-c", "echo out; echo err >&2"], { stdout: fd, stderr: STDOUT });
        expect(yield* child.wait()).toBe(0);
      });
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, "utf8")).toBe("out\nerr\n");
  });

  test("DEVNULL: no input, output thrown away, and no stream object", async () => {
    const result = await run(function* () {
      const reader = yield* createSubprocessExec("cat", [], { stdin: DEVNULL, stdout: PIPE });
      const [out] = yield* reader.communicate();
      const writer = yield* createSubprocessExec("/bin/sh", ["-c", "echo lost"], { stdout: DEVNULL });
      return [text(out), reader.stdin, writer.stdout, yield* writer.wait()];
    });
    expect(result).toEqual(["", null, null, 0]);
  });

  test("separate stdout and stderr pipes", async () => {
    const [out, err] = await run(function* () {
      const child = yield* createSubprocessShell("echo out; echo err >&2", { stdout: PIPE, stderr: PIPE });
      return yield* child.communicate();
    });
    expect([text(out), text(err)]).toEqual(["out\n", "err\n"]);
  });
});

test("cwd and env reach the child, and env replaces the parent's environment", async () => {
  const [out] = await run(function* () {
    const child = yield* createSubprocessExec("/bin/sh", ["-c", 'pwd; echo "$LOOP_TEST_VAR"; echo "${HOME:-no home}"'], {
      cwd: dir,
      env: { LOOP_TEST_VAR: "from the parent", PATH: process.env.PATH, UNSET: undefined },
      stdout: PIPE,
    });
    return yield* child.communicate();
  });
  expect(text(out).split("\n")).toEqual([dir, "from the parent", "no home", ""]);
});

test("createSubprocessShell runs the command through /bin/sh", async () => {
  const [out] = await run(function* () {
    const child = yield* createSubprocessShell("printf 'a\\nb\\nc\\n' | tr a-c x-z | sort -r", { stdout: PIPE });
    return yield* child.communicate();
  });
  expect(text(out)).toBe("z\ny\nx\n");
});

test("startNewSession makes the child the leader of its own session", async () => {
  const [session, ownSession] = await run(function* () {
    const child = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: DEVNULL, startNewSession: true });
    // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a /proc file is served from memory at once
    const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
    const sessionId = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    const other = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: DEVNULL });
    // eslint-disable-next-line @loop/no-blocking-in-coroutine -- a /proc file is served from memory at once
    const otherStat = readFileSync(`/proc/${other.pid}/stat`, "utf8");
    const otherSession = Number(otherStat.slice(otherStat.lastIndexOf(")") + 2).split(" ")[3]);
    yield* child.communicate();
    yield* other.communicate();
    return [sessionId === child.pid, otherSession === other.pid];
  });
  expect([session, ownSession]).toEqual([true, false]);
});
