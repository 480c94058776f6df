// What a consumer writes: typed calls, checked by `tsc --noEmit` in CI (not run).
import { createClient, type Schemas } from "./index.js";

const client = createClient({ baseUrl: "http://127.0.0.1:8080", token: process.env.MACROTRACK_TOKEN ?? "" });

// A body is checked against the document: a misspelt meal, an entry
// without an amount or with two (`servings`, `grams`, `portion_id` with
// `quantity`) does not compile.
const entry: Schemas["LogEntryRequest"] = { date: "2026-11-24", meal: "breakfast", food_id: 1, servings: 1.5 };
const weighed: Schemas["LogEntryRequest"] = { date: "2026-11-24", meal: "lunch", food_id: 2, grams: 150 };
const logged = await client.POST("/v1/logs", { body: { entries: [entry, weighed] } });
if (logged.error) {
  // A problem body (RFC 9457): every offending field is named.
  console.error(logged.error.status, logged.error.errors?.map((error) => error.field));
} else {
  console.log(logged.data.entries.map((row) => row.calories));
}

// Path and query parameters are typed too; `data` is a DayDashboard.
const { data: day } = await client.GET("/v1/days/{date}", {
  params: { path: { date: "2026-11-24" }, query: { today: "2026-11-24" } },
});
console.log(day?.logs.totals.calories, day?.streak.current);

// Revalidate what you keep: 304 and no body while the day is unchanged.
const date = { date: "2026-11-24" };
const first = await client.GET("/v1/logs", { params: { query: date } });
const etag = first.response.headers.get("ETag");
if (etag !== null) {
  const again = await client.GET("/v1/logs", { params: { query: date, header: { "If-None-Match": etag } } });
  console.log(again.response.status === 304 ? first.data?.totals : again.data?.totals);
}
