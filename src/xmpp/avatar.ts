/**
 * XEP-0084 User Avatar nodes, and the small PNGs and hashes the avatar
 * scenarios (XEP-0153, XEP-0398) publish and compare.
 * https://xmpp.org/extensions/xep-0084.html
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

export const NS_AVATAR_DATA = "urn:xmpp:avatar:data";
export const NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata";
export const NS_VCARD4 = "urn:xmpp:vcard4";

/** A valid PNG (1×1, one grey pixel) carrying `token` in a tEXt chunk, so that its hash is new. */
export function tinyPng(token: string): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  // compression, filter, interlace: 0
  // one scanline: filter byte 0, then the grey pixel
  const idat = deflateSync(Buffer.from([0x00, 0x80]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("tEXt", Buffer.from(`Comment\0${token}`, "latin1")),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export function sha1Hex(data: Buffer): string {
  return createHash("sha1").update(data).digest("hex");
}

let crcTable: number[] | undefined;

export function crc32(data: Buffer): number {
  crcTable ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
