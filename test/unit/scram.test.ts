import { describe, expect, it } from "vitest";
import { ScramClient, saslName } from "../../src/session/scram.js";

describe("SCRAM client against the RFC test vectors", () => {
  it("SCRAM-SHA-1 (RFC 5802 §5)", async () => {
    const c = new ScramClient("sha1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    expect(c.clientFirst()).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const final = await c.clientFinal(
      "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    );
    expect(final).toBe(
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    );
    expect(() => c.verifyServerFinal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")).not.toThrow();
  });

  it("SCRAM-SHA-256 (RFC 7677 §3)", async () => {
    const c = new ScramClient("sha256", "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
    expect(c.clientFirst()).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    const final = await c.clientFinal(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    );
    expect(final).toBe(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    expect(() =>
      c.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
    ).not.toThrow();
  });

  it("rejects a server signature that does not match", async () => {
    const c = new ScramClient("sha1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    c.clientFirst();
    await c.clientFinal("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    expect(() => c.verifyServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")).toThrow(/does not match/);
  });

  it("rejects a server nonce that does not extend ours", async () => {
    const c = new ScramClient("sha256", "user", "pencil", "abc");
    c.clientFirst();
    await expect(c.clientFinal("r=xyz123,s=QSXCR+Q6sek8bf92,i=4096")).rejects.toThrow(/nonce/);
  });

  it("rejects a server-final carrying an error", async () => {
    const c = new ScramClient("sha1", "user", "pencil", "fyko+d2lbbFgONRv9qkxdawL");
    c.clientFirst();
    await c.clientFinal("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    expect(() => c.verifyServerFinal("e=invalid-proof")).toThrow(/invalid-proof/);
  });

  it("SCRAM-SHA-512 agrees with an independent server-side computation", async () => {
    // No RFC vector exists for SHA-512: compute the server's side by hand.
    const { createHash, createHmac, pbkdf2Sync } = await import("node:crypto");
    const salt = Buffer.from("salty-salt");
    const c = new ScramClient("sha512", "user", "pencil", "clientnonce");
    const first = c.clientFirst();
    const serverFirst = `r=clientnonceSERVER,s=${salt.toString("base64")},i=4096`;
    const final = await c.clientFinal(serverFirst);
    const salted = pbkdf2Sync("pencil", salt, 4096, 64, "sha512");
    const authMessage = `${first.slice(3)},${serverFirst},${final.slice(0, final.indexOf(",p="))}`;
    const clientKey = createHmac("sha512", salted).update("Client Key").digest();
    const storedKey = createHash("sha512").update(clientKey).digest();
    const signature = createHmac("sha512", storedKey).update(authMessage).digest();
    const proof = Buffer.from(final.slice(final.indexOf(",p=") + 3), "base64");
    const recovered = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    expect(createHash("sha512").update(recovered).digest().equals(storedKey)).toBe(true);
    const serverKey = createHmac("sha512", salted).update("Server Key").digest();
    const v = createHmac("sha512", serverKey).update(authMessage).digest("base64");
    expect(() => c.verifyServerFinal(`v=${v}`)).not.toThrow();
  });

  it("escapes = and , in user names", () => {
    expect(saslName("a=b,c")).toBe("a=3Db=2Cc");
  });
});
