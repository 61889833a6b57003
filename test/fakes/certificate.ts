/** A throw-away self-signed certificate for fake TLS servers, made by openssl at test time. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Certificate {
  key: string;
  cert: string;
  /** The certificate as a file, for --ca (it is its own CA). */
  certFile: string;
  remove(): void;
}

export function makeCertificate(domain: string): Certificate {
  const dir = mkdtempSync(join(tmpdir(), "xepcheck-fake-cert-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
      "-keyout", keyFile, "-out", certFile, "-subj", `/CN=${domain}`, "-addext", `subjectAltName=DNS:${domain}`],
    { stdio: "ignore" },
  );
  return {
    key: readFileSync(keyFile, "utf8"),
    cert: readFileSync(certFile, "utf8"),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
