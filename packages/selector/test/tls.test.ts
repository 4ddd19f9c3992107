import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type Coroutine } from "@loop/core";
import { openConnection, startServer, type StreamReader, type StreamWriter } from "@loop/net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SelectorPoller, SelectorTransport } from "../src/index.js";
import { expectNoOpenDescriptors } from "./helpers.js";
import { available } from "./native-available.js";

let dir = "";
let key = "";
let cert = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "loop-selector-tls-"));
  // A throwaway self-signed certificate for 127.0.0.1, made for this run only.
  const made = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    { stdio: "ignore" },
  );
  if (made.status === 0) {
    key = readFileSync(join(dir, "key.pem"), "utf8");
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
  } else if (process.env.CI) {
    throw new Error("openssl is needed to make the TLS tests' certificate: apt-get install openssl");
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function* echoLine(reader: StreamReader, writer: StreamWriter): Coroutine<void> {
  writer.write(yield* reader.readline());
  yield* writer.drain();
}

describe.skipIf(!available)("TLS on a selector loop", () => {
  it("is carried by Node's driver on the same loop, beside raw-socket connections", async (context) => {
    if (cert === "") return context.skip("openssl is not installed: no certificate for the TLS tests");
    await run(
      function* () {
        const secure = yield* startServer(echoLine, "127.0.0.1", 0, { tls: { key, cert } });
        const plain = yield* startServer(echoLine, "127.0.0.1", 0);
        const [tlsReader, tlsWriter] = yield* openConnection("127.0.0.1", (secure.address() as { port: number }).port, { tls: { ca: cert } });
        const [reader, writer] = yield* openConnection("127.0.0.1", (plain.address() as { port: number }).port);
        expect(tlsWriter.transport).not.toBeInstanceOf(SelectorTransport);
        expect(writer.transport).toBeInstanceOf(SelectorTransport);
        tlsWriter.write("secret\n");
        writer.write("plain\n");
        expect(Buffer.from(yield* tlsReader.readline()).toString()).toBe("secret\n");
        expect(Buffer.from(yield* reader.readline()).toString()).toBe("plain\n");
        for (const w of [tlsWriter, writer]) {
          w.close();
          yield* w.waitClosed();
        }
        for (const s of [secure, plain]) {
          s.close();
          yield* s.waitClosed();
        }
      },
      { poller: new SelectorPoller() },
    );
    await expectNoOpenDescriptors();
  });
});
