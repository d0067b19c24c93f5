// The product page's five examples, run against a running `tajo run`
// (TAJO_BASE_URL, TAJO_API_KEY, BREVO_API_KEY; see
// tools/tajo/internal/sdktest). Prints one line per example and PASS.
import assert from "node:assert/strict";
import { TajoClient, TajoError } from "../dist/index.js";

const client = new TajoClient({
  apiKey: process.env.TAJO_API_KEY,
  brevoApiKey: process.env.BREVO_API_KEY,
  baseUrl: process.env.TAJO_BASE_URL,
});

// 1. connectors.connect
const connected = await client.connectors.connect("braze", {
  apiKey: process.env.BRAZE_API_KEY || "braze-rest-api-key",
  instanceUrl: "https://rest.iad-01.braze.com",
});
assert.equal(connected.connected, true);
console.log("ok connect", JSON.stringify(connected));

// 2. connectors.sync, followed until done
const started = await client.connectors.sync("braze", { type: "incremental", resources: ["users"], batchSize: 500 });
assert.ok(started.runId, "sync answers a run id");
const run = await client.connectors.waitForRun("braze", started.runId);
assert.equal(run.status, "completed", `run ${run.id} ended ${run.status}`);
console.log("ok sync", started.runId, run.status);

// 3. connectors.status
const status = await client.connectors.status("braze");
for (const k of ["connected", "lastSync", "usersCount", "campaignsTracked", "eventsProcessed"]) {
  assert.ok(k in status, `status lacks ${k}`);
}
assert.equal(status.connected, true);
assert.ok(status.usersCount > 0, "usersCount after the full sync");
console.log("ok status", status.usersCount, status.eventsProcessed);

// 4. connectors.handleEvent
const handled = await client.connectors.handleEvent("braze", {
  type: "user.event",
  payload: { external_id: "user_12345", name: "product_viewed", properties: { product_id: "sku-1", price: 19.99 } },
});
assert.equal(handled.accepted, 1);
let processed = 0;
for (let i = 0; i < 120 && processed < 1; i++) {
  processed = (await client.connectors.status("braze")).eventsProcessed;
  if (processed < 1) await new Promise((r) => setTimeout(r, 250));
}
assert.ok(processed >= 1, "the event never reached Brevo (eventsProcessed stayed 0)");
console.log("ok handleEvent", handled.ids[0], "eventsProcessed", processed);

// 4b. connectors.report: the analytics report (empty unless sync.campaigns or .canvases ran)
const report = await client.connectors.report("braze", { since: new Date(Date.now() - 30 * 86400_000) });
assert.ok(Array.isArray(report.rows) && "braze" in report.totals && typeof report.campaignsTracked === "number", "report shape");
console.log("ok report", report.rows.length, "rows");

// 5. connectors.exportSegment: the segment's users join the list
const exported = await client.connectors.exportSegment("braze", {
  segmentId: process.env.SEGMENT_ID,
  targetList: Number(process.env.TARGET_LIST),
  includeAttributes: ["email", "first_name", "last_name", "total_revenue"],
});
assert.ok(exported.count > 0, `exportSegment exported ${exported.count}`);
assert.equal(exported.listId, Number(process.env.TARGET_LIST));
console.log("ok exportSegment", exported.count);
// An attribute the field mapping does not know is refused, saying so.
await assert.rejects(
  client.connectors.exportSegment("braze", { segmentId: process.env.SEGMENT_ID, targetList: 7, includeAttributes: ["shoe_size"] }),
  (err) => err instanceof TajoError && err.status === 400 && /shoe_size/.test(err.message),
);

// A wrong key is refused with 401.
const stranger = new TajoClient({ apiKey: "tajo_000000000000_nope", baseUrl: process.env.TAJO_BASE_URL });
await assert.rejects(stranger.connectors.status("braze"), (err) => err instanceof TajoError && err.status === 401);
console.log("PASS");
