// `{{name}}`: a Sluice auth plugin. It accepts the bearer keys whose sha256 (hex) the config
// lists, each for one owner; every other caller gets 401.
//
//   [[plugins]]
//   name = "{{name}}"
//   stage = "auth"
//   source = "{{name}}.wasm"
//   [plugins.config.owners]
//   # sha256 of the secret -> owner (`printf %s "$SECRET" | sha256sum`)
//   "1c590839af894cf25f9a5fe06929af05b377f60efbe55508ef93d251887b9213" = "demo"
//
// Test: `sluice plugin test` (runs `node --test`). Build: `sluice plugin build`.

import { err, exportAuth, field, invalidApiKey } from "./sluice-plugin.js";

export class {{Type}} {
  // The plugin's config table, checked by the SDK before the constructor runs (a missing,
  // mistyped or unknown field rejects the load).
  static config = {
    owners: field.object(),
  };

  /** @param {{ owners: Record<string, string> }} config */
  constructor(config) {
    for (const [hash, owner] of Object.entries(config.owners)) {
      if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new Error(`\`${hash}\` is not a hex sha256`);
      if (typeof owner !== "string") throw new Error(`the owner of \`${hash}\` must be a string`);
    }
    this.owners = new Map(Object.entries(config.owners));
  }

  /** @type {import("./sluice-plugin.js").Auth["authenticate"]} */
  authenticate(_ctx, credential) {
    if (credential === undefined) return err(invalidApiKey("an API key is required"));
    const hash = sha256Hex(credential);
    const owner = this.owners.get(hash);
    if (owner === undefined) return err(invalidApiKey("this API key is not valid"));
    return { keyId: hash.slice(0, 12), owner };
  }
}

export const { lifecycle, authStage } = exportAuth({{Type}});

// --- SHA-256 (FIPS 180-4) -------------------------------------------------------------------------
// A component has no Node.js `crypto`, so the hash is computed here, in plain JavaScript.

// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = Uint32Array.from(
  [
    "428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5",
    "d807aa98 12835b01 243185be 550c7dc3 72be5d74 80deb1fe 9bdc06a7 c19bf174",
    "e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da",
    "983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967",
    "27b70a85 2e1b2138 4d2c6dfc 53380d13 650a7354 766a0abb 81c2c92e 92722c85",
    "a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070",
    "19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3",
    "748f82ee 78a5636f 84c87814 8cc70208 90befffa a4506ceb bef9a3f7 c67178f2",
  ]
    .join(" ")
    .split(" ")
    .map((h) => parseInt(h, 16)),
);

// The first 32 bits of the fractional parts of the square roots of the first 8 primes.
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const rotr = (x, n) => (x >>> n) | (x << (32 - n));

/** The SHA-256 of `text` (hashed as UTF-8), as 64 lower-case hex digits. */
export function sha256Hex(text) {
  const data = new TextEncoder().encode(text);
  // The message, a 1 bit, zeros, and its length in bits (big-endian, 64 bits): whole 64-byte blocks.
  const padded = new Uint8Array(Math.ceil((data.length + 9) / 64) * 64);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = data.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);

  const h = Uint32Array.from(H0);
  const w = new Uint32Array(64); // stores wrap to 32 bits
  for (let at = 0; at < padded.length; at += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(at + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return Array.from(h, (x) => x.toString(16).padStart(8, "0")).join("");
}
