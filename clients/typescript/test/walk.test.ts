// The README's walk through the typed client, against a real server this
// file starts: the `macrotrack` binary (MACROTRACK_BIN, else cargo's debug
// build) on the embedded default (a SQLite file in a temp dir of its own, the
// in-process cache) on a free loopback port. Run with `npm test`.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { createClient, type MacrotrackClient } from "../index.js";

// Compiled to build/test/: the package is two levels up, the repository four.
const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));
const ADMIN = "walk-admin-token-0123456789";
const required = process.env.MACROTRACK_REQUIRE_SERVICES === "1";

/** The binary, or why there is none. */
function binary(): { path: string } | { missing: string } {
  const target = process.env.CARGO_TARGET_DIR ?? join(PACKAGE, "../../target");
  const path = process.env.MACROTRACK_BIN ?? join(target, "debug/macrotrack");
  return existsSync(path) ? { path } : { missing: `${path} does not exist: run cargo build -p macrotrack first` };
}

const found = binary();
// The repository's rule for missing tools: skip with the reason, or fail
// when MACROTRACK_REQUIRE_SERVICES=1 (as in CI).
const skip =
  "missing" in found && !required ? `${found.missing}; set MACROTRACK_REQUIRE_SERVICES=1 to fail instead` : false;

let dir = "";
let server: ChildProcess | undefined;
let serverLog = "";
let base = "";
let bob = "";

before(async () => {
  if (skip) return;
  if ("missing" in found) throw new Error(`the macrotrack binary is required: ${found.missing}`);
  dir = mkdtempSync(join(tmpdir(), "macrotrack-walk-"));
  // Only the settings given here: none of the caller's database, cache or
  // admin token.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, MACROTRACK_LOG: "warn", MACROTRACK_ADMIN_TOKEN: ADMIN };
  // A user from the command line, as the README says to without an admin token.
  bob = execFileSync(found.path, ["user", "create", "Bob"], { cwd: dir, env, encoding: "utf8" }).trim();
  const child = spawn(found.path, ["--bind", "127.0.0.1:0"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  server = child;
  child.stderr?.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
  // The first line says where it listens (port 0: a free one).
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address within 30 s: ${serverLog}`)), 30_000);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}: ${serverLog}`)));
  });
  const address = /^macrotrack listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
  assert.ok(address, first);
  base = address[1]!;
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let alice: MacrotrackClient;
let food = 0;

test("an admin creates Alice; her token is answered once", { skip }, async () => {
  const admin = createClient({ baseUrl: base, token: ADMIN });
  const { data, response } = await admin.POST("/v1/admin/users", { body: { name: "Alice" } });
  assert.equal(response.status, 201, serverLog);
  assert.equal(data?.name, "Alice");
  assert.match(data?.token ?? "", /^mt_/);
  alice = createClient({ baseUrl: base, token: data!.token });
});

test("she creates a food and reads it back", { skip }, async () => {
  const oats = {
    name: "Overnight oats",
    serving_size: 250,
    serving_unit: "g",
    calories: 310.5,
    protein_g: 12,
    carbs_g: 48.25,
    fat_g: 7.5,
  };
  const created = await alice.POST("/v1/foods", { body: oats });
  assert.equal(created.response.status, 201);
  food = created.data!.id;
  const read = await alice.GET("/v1/foods/{id}", { params: { path: { id: food } } });
  assert.deepEqual(read.data, created.data);
  assert.equal(read.data?.calories, 310.5);
});

test("the bundled sample is imported from the command line, then searched and found by barcode", { skip }, async () => {
  assert.ok("path" in found);
  const sample = join(PACKAGE, "../../crates/food-sources/tests/fixtures/fdc");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, MACROTRACK_LOG: "warn" };
  const summary = execFileSync(found.path, ["foods", "import", sample], { cwd: dir, env, encoding: "utf8" });
  assert.match(summary, /^imported \d+, updated 0, unchanged 0, skipped \d+$/m);
  const creme = await alice.GET("/v1/foods", { params: { query: { query: "creme", limit: 3 } } });
  assert.equal(creme.response.status, 200);
  assert.deepEqual(
    creme.data?.map((found) => found.name),
    ["Crème fraîche"],
  );
  const milk = await alice.GET("/v1/foods", { params: { query: { query: "MILK" } } });
  assert.equal(milk.data?.[0]?.generic, true, "generic before branded");
  const jif = await alice.GET("/v1/foods/barcode/{code}", { params: { path: { code: "051500255162" } } });
  assert.equal(jif.response.status, 200);
  assert.equal(jif.data?.barcode, "00051500255162");
  assert.equal(jif.data?.brand, "Jif");
  const misread = await alice.GET("/v1/foods/barcode/{code}", { params: { path: { code: "051500255163" } } });
  assert.equal(misread.response.status, 422, "a wrong check digit");
});

test("she logs it on two days, then reads a day and her next write at once", { skip }, async () => {
  const logged = await alice.POST("/v1/logs", {
    body: {
      entries: [
        { date: "2026-11-24", meal: "breakfast", food_id: food, servings: 1.5 },
        { date: "2026-11-25", meal: "lunch", food_id: food, servings: 1 },
      ],
    },
  });
  assert.equal(logged.response.status, 201);
  assert.deepEqual(
    logged.data?.entries.map((entry) => [entry.date, entry.calories]),
    [
      ["2026-11-24", 465.75],
      ["2026-11-25", 310.5],
    ],
  );
  const day = { params: { query: { date: "2026-11-24" } } };
  assert.equal((await alice.GET("/v1/logs", day)).data?.totals.calories, 465.75);
  const snack = { date: "2026-11-24", meal: "snack", food_id: food, servings: 0.5 } as const;
  assert.equal((await alice.POST("/v1/logs", { body: { entries: [snack] } })).response.status, 201);
  const again = await alice.GET("/v1/logs", day);
  assert.equal(again.data?.entries.length, 2);
  assert.equal(again.data?.totals.calories, 621);
});

let etag = "";

test("she keeps what she read: its ETag is 304 Not Modified until the day changes", { skip }, async () => {
  // (The README's curl asks with HEAD; the document lists GET only, as
  // every GET answers HEAD too, so the typed client has no HEAD.)
  const read = await alice.GET("/v1/logs", { params: { query: { date: "2026-11-24" } } });
  assert.equal(read.response.status, 200);
  etag = read.response.headers.get("ETag") ?? "";
  assert.match(etag, /^"[^"]+"$/, "a strong tag");
  assert.equal(read.response.headers.get("Cache-Control"), "private, no-cache");

  const revalidated = await alice.GET("/v1/logs", {
    params: { query: { date: "2026-11-24" }, header: { "If-None-Match": etag } },
  });
  assert.equal(revalidated.response.status, 304);
  assert.equal(revalidated.data, undefined, "no body");
  assert.equal(revalidated.response.headers.get("ETag"), etag);
  // The server's cache answered it: the day was read (and stored) above.
  assert.match(revalidated.response.headers.get("Cache-Status") ?? "", /^macrotrack; hit/);
});

test("a week at a glance, from any day", { skip }, async () => {
  const { data } = await alice.GET("/v1/weeks/{start}", { params: { path: { start: "2026-11-23" } } });
  assert.ok(data);
  assert.equal(data.start, "2026-11-23");
  assert.equal(data.days.length, 7);
  assert.ok((data.average?.calories ?? 0) > 0, "two days of the week have entries");
});

test("she completes the day: the day screen says so, and her old ETag is stale", { skip }, async () => {
  const path = { date: "2026-11-24" };
  const completion = await alice.PUT("/v1/days/{date}/completion", { params: { path } });
  assert.deepEqual(completion.data, { date: "2026-11-24", completed: true });
  const screen = await alice.GET("/v1/days/{date}", { params: { path, query: { today: "2026-11-24" } } });
  assert.equal(screen.data?.logs.completed, true);
  assert.equal(screen.data?.logs.totals.calories, 621);
  assert.deepEqual(screen.data?.streak, { current: 1, longest: 1, last_completed: "2026-11-24" });

  const stale = await alice.GET("/v1/logs", {
    params: { query: { date: "2026-11-24" }, header: { "If-None-Match": etag } },
  });
  assert.equal(stale.response.status, 200);
  assert.equal(stale.data?.completed, true);
  assert.notEqual(stale.response.headers.get("ETag"), etag);
});

test("she sets her time zone, then exports her days as CSV", { skip }, async () => {
  const settings = await alice.PUT("/v1/me/settings", { body: { timezone: "Europe/Berlin" } });
  assert.deepEqual(settings.data, { timezone: "Europe/Berlin" });
  assert.equal((await alice.GET("/v1/me")).data?.timezone, "Europe/Berlin");
  const exported = await alice.GET("/v1/export", {
    params: { query: { from: "2026-11-24", to: "2026-11-25" } },
    parseAs: "text",
  });
  assert.equal(exported.response.status, 200);
  assert.match(exported.response.headers.get("Content-Type") ?? "", /^text\/csv/);
  assert.match(exported.response.headers.get("Content-Disposition") ?? "", /^attachment/);
  const lines = (exported.data ?? "").split("\r\n");
  assert.equal(lines[0], "date,meal,name,servings,grams,calories,protein_g,carbs_g,fat_g,food_id,recipe_id");
  // In day order, each line ending in CRLF.
  assert.deepEqual(
    lines.slice(1).map((line) => line.split(",").slice(0, 4).join(",")),
    ["2026-11-24,breakfast,Overnight oats,1.5", "2026-11-24,snack,Overnight oats,0.5", "2026-11-25,lunch,Overnight oats,1.0", ""],
  );
});

test("she copies yesterday's breakfast to today and quick-adds a latte", { skip }, async () => {
  const copied = await alice.POST("/v1/days/{date}/copy", {
    params: { path: { date: "2026-11-24" } },
    body: { to: "2026-11-26", meal: "breakfast" },
  });
  assert.equal(copied.response.status, 201);
  assert.deepEqual(
    copied.data?.entries.map((entry) => [entry.date, entry.meal, entry.name, entry.servings]),
    [["2026-11-26", "breakfast", "Overnight oats", 1.5]],
  );
  const latte = { name: "Latte", calories: 190, protein_g: 10, carbs_g: 18, fat_g: 7 };
  const quick = await alice.POST("/v1/logs", {
    body: { entries: [{ date: "2026-11-26", meal: "snack", quick: latte }] },
  });
  assert.equal(quick.response.status, 201);
  assert.equal(quick.data?.entries[0]?.food_id, null);
  const day = await alice.GET("/v1/logs", { params: { query: { date: "2026-11-26" } } });
  assert.deepEqual(
    day.data?.entries.map((entry) => [entry.meal, entry.name]),
    [
      ["breakfast", "Overnight oats"],
      ["snack", "Latte"],
    ],
  );
  assert.equal(day.data?.totals.calories, 465.75 + 190);
  // Nothing of that meal on a day: 422 naming `meal`.
  const nothing = await alice.POST("/v1/days/{date}/copy", {
    params: { path: { date: "2026-11-26" } },
    body: { to: "2026-11-27", meal: "dinner" },
  });
  assert.equal(nothing.response.status, 422);
  assert.deepEqual(nothing.error?.errors?.map((error) => error.field), ["meal"]);
});

test("the server's document is the one this client was generated from", { skip }, async () => {
  const { data } = await alice.GET("/openapi.json");
  assert.ok(data && "/v1/days/{date}/completion" in data.paths);
  const committed = JSON.parse(readFileSync(join(PACKAGE, "openapi.json"), "utf8"));
  assert.deepEqual(data, committed, "run `cargo xtask client` and commit the result");
});

test("bad input is a problem naming each field, and the types refuse it first", { skip }, async () => {
  const bad = await alice.POST("/v1/logs", {
    // @ts-expect-error: "brunch" is no meal, and the entry names no food or recipe.
    body: { entries: [{ date: "2026-02-30", meal: "brunch", servings: 0 }] },
  });
  assert.equal(bad.response.status, 422);
  assert.equal(bad.error?.status, 422);
  const fields = bad.error?.errors?.map((error) => error.field) ?? [];
  for (const field of ["entries.0.date", "entries.0.meal", "entries.0.servings"]) {
    assert.ok(fields.includes(field), `${field} in ${fields}`);
  }
  assert.equal(bad.error?.instance, `urn:request:${bad.response.headers.get("X-Request-Id")}`);
});

test("Bob, created from the command line, sees none of it; no token is a 401", { skip }, async () => {
  const day = { params: { query: { date: "2026-11-24" } } };
  const { data } = await createClient({ baseUrl: base, token: bob }).GET("/v1/logs", day);
  assert.deepEqual(data?.entries, []);
  const anonymous = await createClient({ baseUrl: base }).GET("/v1/logs", day);
  assert.equal(anonymous.response.status, 401);
  assert.equal(anonymous.error?.status, 401);
});
