#!/usr/bin/env node
// Builds a JavaScript (or TypeScript) Sluice plugin into a WebAssembly component.
//
//   node plugin-sdk/js/build.mjs --wit wit --world policy \
//       --entry examples/policy-max-tokens-js --out max-tokens-js.wasm \
//       [--toolchain .cache/plugin-js] [--aot] [--keep DIR]
//
// --entry is the plugin's module (.js, .mjs or .ts), or its folder (then its package.json `main`,
// else plugin.js, plugin.ts, index.js). --world is a world of the WIT package in --wit (a folder
// or a .wit file): policy, guard, auth, enrich, mcp-policy or provider-adapter.
// --toolchain is the folder holding the node_modules that scripts/plugin-js-env installs
// (default: $SLUICE_PLUGIN_JS_TOOLCHAIN, else node_modules next to this script, else
// .cache/plugin-js of the repository this script is in).
//
// Steps: a small entry module hands the component's imports (`host`, `kv`, `prices` for policy
// and enrich, `keys` for auth) to the SDK and re-exports the plugin; esbuild bundles it with the
// SDK and whatever the plugin imports into one ES module (ComponentizeJS takes one module);
// ComponentizeJS embeds it in SpiderMonkey, runs its top level once (Wizer) and emits the
// component. The `http` and `fetch-event` features are left out (the gateway gives plugins no
// network). Progress goes to stderr; the last line of stdout is the component's path.

import { mkdtemp, readFile, rm, stat, writeFile, mkdir, realpath } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const SDK = join(here, "sluice-plugin.js");

// The imports each world gives a plugin, as (module variable, WIT interface).
const WORLDS = {
  policy: ["host", "kv", "prices"],
  guard: ["host", "kv"],
  auth: ["host", "kv", "keys"],
  enrich: ["host", "kv", "prices"],
  "mcp-policy": ["host", "kv"],
  "provider-adapter": ["host", "kv"],
};
const PACKAGE = "sluice:plugin";
const VERSION = "0.2.0";

function usage(msg) {
  if (msg) console.error(`build.mjs: ${msg}`);
  console.error(
    "usage: node build.mjs --wit DIR|FILE --world WORLD --entry FILE|DIR --out FILE.wasm " +
      "[--toolchain DIR] [--aot] [--keep DIR]",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { aot: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith("--") && a.includes("=") ? a.split(/=(.*)/s) : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case "--wit": opts.wit = value(); break;
      case "--world": opts.world = value(); break;
      case "--entry": opts.entry = value(); break;
      case "--out": opts.out = value(); break;
      case "--toolchain": opts.toolchain = value(); break;
      case "--keep": opts.keep = value(); break;
      case "--aot": opts.aot = true; break;
      case "-h": case "--help": usage();
      default: usage(`unknown argument ${a}`);
    }
  }
  for (const k of ["wit", "world", "entry", "out"]) if (!opts[k]) usage(`--${k} is required`);
  if (!(opts.world in WORLDS)) usage(`unknown world ${opts.world}: one of ${Object.keys(WORLDS).join(", ")}`);
  return opts;
}

/** The folder holding the toolchain's node_modules. */
function findToolchain(given) {
  const candidates = [
    given,
    process.env.SLUICE_PLUGIN_JS_TOOLCHAIN,
    here,
    resolve(here, "../../.cache/plugin-js"),
  ].filter(Boolean);
  for (const dir of candidates) {
    if (existsSync(join(dir, "node_modules/@bytecodealliance/componentize-js/package.json"))) return resolve(dir);
  }
  throw new Error(
    `no toolchain found (looked in ${candidates.join(", ")}): run scripts/plugin-js-env and pass ` +
      "the folder it prints as --toolchain or SLUICE_PLUGIN_JS_TOOLCHAIN",
  );
}

/** Imports an ES module package of the toolchain by the `import` entry of its package.json. */
async function importFrom(toolchain, name) {
  const dir = join(toolchain, "node_modules", name);
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  const pick = (e) => (typeof e === "string" ? e : e && (e.import ?? e.default ?? pick(e["."])));
  const entry = pick(pkg.exports) ?? pkg.module ?? pkg.main ?? "index.js";
  return import(pathToFileURL(join(dir, entry)).href);
}

/** The plugin's module: the file given, or the entry of the folder given. */
async function findEntry(entry) {
  const path = resolve(entry);
  if (!(await stat(path)).isDirectory()) return path;
  const manifest = join(path, "package.json");
  if (existsSync(manifest)) {
    const main = JSON.parse(await readFile(manifest, "utf8")).main;
    if (main) return join(path, main);
  }
  for (const name of ["plugin.js", "plugin.mjs", "plugin.ts", "index.js", "index.mjs", "index.ts"]) {
    if (existsSync(join(path, name))) return join(path, name);
  }
  throw new Error(`${entry} is a folder without package.json "main", plugin.js, plugin.ts or index.js`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const toolchain = findToolchain(opts.toolchain);
  const entry = await realpath(await findEntry(opts.entry));
  const wit = resolve(opts.wit);
  const out = resolve(opts.out);
  const work = opts.keep ? resolve(opts.keep) : await mkdtemp(join(tmpdir(), "sluice-plugin-js-"));
  await mkdir(work, { recursive: true });
  try {
    // 1. The entry wrapper: the world's imports go where the SDK looks for them, then the
    // plugin's exports are the component's.
    const names = WORLDS[opts.world];
    const wrapper = [
      ...names.map((n) => `import * as ${n} from "${PACKAGE}/${n}@${VERSION}";`),
      `globalThis[Symbol.for("${PACKAGE.replace(":", ".")}.host@${VERSION}")] = { ${names.join(", ")} };`,
      `export * from ${JSON.stringify(entry)};`,
      "",
    ].join("\n");
    const wrapperPath = join(work, "entry.js");
    await writeFile(wrapperPath, wrapper);

    // 2. One module: esbuild bundles the plugin, the SDK and their imports. `sluice-plugin`
    // resolves to this SDK; the WIT imports stay imports.
    const esbuild = await importFrom(toolchain, "esbuild");
    const bundlePath = join(work, "plugin.bundle.js");
    const bundled = await esbuild.build({
      entryPoints: [wrapperPath],
      outfile: bundlePath,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      external: [`${PACKAGE}/*`, "wasi:*"],
      alias: { "sluice-plugin": SDK },
      mainFields: ["module", "main"],
      logLevel: "warning",
      legalComments: "none",
    });
    if (bundled.errors.length > 0) throw new Error("esbuild failed");
    const bundleMs = Date.now() - started;

    // 3. The component.
    const { componentize } = await importFrom(toolchain, "@bytecodealliance/componentize-js");
    const { component } = await componentize({
      sourcePath: bundlePath,
      witPath: wit,
      worldName: opts.world,
      disableFeatures: ["http", "fetch-event"],
      enableAot: opts.aot,
    });
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, component);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.error(
      `build.mjs: ${entry} -> ${out} (world ${opts.world}, ${(component.length / 1048576).toFixed(1)} MiB, ` +
        `bundled in ${bundleMs} ms, built in ${secs} s)`,
    );
    console.log(out);
  } finally {
    if (!opts.keep) await rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`build.mjs: ${e?.stack ?? e}`);
  process.exit(1);
});
