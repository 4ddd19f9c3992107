/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with openssl for
 * one test file's run. Empty strings when openssl is missing (TLS tests then skip; on CI
 * that is an error).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  key: string;
  cert: string;
}

export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "loop-net-cert-"));
  try {
    const made = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      { stdio: "ignore" },
    );
    if (made.status === 0) return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
    if (process.env.CI) throw new Error("openssl is needed to make the TLS tests' certificate: apt-get install openssl");
    return { key: "", cert: "" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
