// Drives the sandbox's Brevo simulator with Brevo's official Node SDK
// (@getbrevo/brevo, pinned in package.json) through the calls the connector
// makes and those of issue 15, the way a stranger's client would. Run by
// nodesdk_test.go with BREVO_BASE_URL (".../v3") and BREVO_API_KEY.
//
// The SDK (Fern-generated) throws on any status it does not take for success
// and on a body it cannot parse, but it does not check an answer's shape: it
// casts the JSON to its TypeScript types. So each answer is also checked
// against those types, read from the SDK's own .d.ts files: every property
// they declare required must be there, and enums (process names) must hold
// one of their values. Any thrown error or failed check is reported on
// stdout as "FAIL <step>: <why>" and the script exits 1.
"use strict";

const fs = require("fs");
const path = require("path");
const { BrevoClient } = require("@getbrevo/brevo");

const base = process.env.BREVO_BASE_URL;
const apiKey = process.env.BREVO_API_KEY;
if (!base || !apiKey) {
  console.log("FAIL setup: BREVO_BASE_URL and BREVO_API_KEY must be set");
  process.exit(2);
}

// ---- the SDK's declared types -------------------------------------------

// parseDts reads interfaces (with their required and optional properties)
// and const enums from one .d.ts file into types, keyed by their dotted path
// ("GetProcessResponse.Name", "GetListsResponse.Lists.Item").
function parseDts(text, types) {
  const stack = [];
  const pathOf = () => stack.map((s) => s.name).join(".");
  for (const raw of text.split("\n")) {
    const t = raw.trim();
    if (t === "" || t.startsWith("/*") || t.startsWith("*") || t.startsWith("//")) continue;
    let m;
    if ((m = t.match(/^(?:export )?(?:declare )?(interface|namespace) (\w+)(?: extends [^{]*)? \{(\})?$/))) {
      stack.push({ kind: m[1], name: m[2] });
      if (m[1] === "interface") types[pathOf()] = { props: {} };
      if (m[3]) stack.pop();
      continue;
    }
    if ((m = t.match(/^(?:export )?(?:declare )?const (\w+): \{$/))) {
      stack.push({ kind: "const", name: m[1] });
      types[pathOf()] = { values: [] };
      continue;
    }
    if (t === "}" || t === "};") {
      stack.pop();
      continue;
    }
    const top = stack[stack.length - 1];
    if (!top) continue;
    if (top.kind === "interface" && (m = t.match(/^(\w+)(\?)?: (.*);$/))) {
      types[pathOf()].props[m[1]] = { required: !m[2], type: m[3] };
    } else if (top.kind === "const" && (m = t.match(/^readonly \w+: "([^"]*)";$/))) {
      types[pathOf()].values.push(m[1]);
    }
  }
}

function loadTypes() {
  const root = path.join(path.dirname(require.resolve("@getbrevo/brevo")), "api");
  const types = {};
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".d.ts") && e.name !== "index.d.ts" && e.name !== "exports.d.ts") {
        parseDts(fs.readFileSync(p, "utf8"), types);
      }
    }
  };
  walk(root);
  return types;
}

const types = loadTypes();

// missing lists the properties the type declares required that v lacks
// (null counts as absent unless the type admits null).
function missing(v, typeName) {
  const t = types[typeName];
  if (!t || !t.props) throw new Error(`the SDK declares no interface ${typeName}`);
  if (v === null || typeof v !== "object") return [`(not an object: ${JSON.stringify(v)})`];
  return Object.entries(t.props)
    .filter(([k, p]) => p.required && (v[k] === undefined || (v[k] === null && !p.type.includes("null"))))
    .map(([k]) => k);
}

function enumValues(name) {
  const t = types[name];
  if (!t || !t.values) throw new Error(`the SDK declares no enum ${name}`);
  return t.values;
}

// ---- the session ----------------------------------------------------------

const failures = [];
function check(step, cond, why) {
  if (!cond) failures.push(`${step}: ${why}`);
}
function shape(step, v, typeName) {
  const m = missing(v, typeName);
  check(step, m.length === 0, `${typeName} requires ${m.join(", ")}; got ${JSON.stringify(v)}`);
}

const client = new BrevoClient({ apiKey, baseUrl: base, maxRetries: 0, timeoutInSeconds: 20 });

async function step(name, fn) {
  try {
    const out = await fn();
    console.log(`ok ${name}`);
    return out;
  } catch (err) {
    const detail = err && err.statusCode ? `${err.statusCode} ${JSON.stringify(err.body)}` : String(err && err.stack || err);
    failures.push(`${name}: the SDK raised ${err && err.name}: ${detail}`);
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitProcess(name, processId) {
  const names = enumValues("GetProcessResponse.Name");
  const statuses = enumValues("GetProcessResponse.Status");
  for (let i = 0; i < 100; i++) {
    const p = await step(`${name}: getProcess`, () => client.process.getProcess({ processId }));
    if (!p) return;
    shape(name, p, "GetProcessResponse");
    check(name, names.includes(p.name), `process name ${p.name} is not one of the SDK's ${names}`);
    check(name, statuses.includes(p.status), `process status ${p.status} is not one of the SDK's ${statuses}`);
    if (p.status === "completed") return p;
    await sleep(50);
  }
  failures.push(`${name}: process ${processId} did not complete`);
}

async function main() {
  const account = await step("getAccount", () => client.account.getAccount());
  if (account) shape("getAccount", account, "GetAccountResponse");

  const attrs = await step("getAttributes", () => client.contacts.getAttributes());
  if (attrs) {
    shape("getAttributes", attrs, "GetAttributesResponse");
    for (const a of attrs.attributes || []) shape("getAttributes item", a, "GetAttributesResponse.Attributes.Item");
  }
  for (const [name, type] of [["LOYALTY_POINTS", "float"], ["BRAZE_ID", "text"], ["DOB", "date"], ["PUSH_OPTIN", "boolean"]]) {
    await step(`createAttribute ${name}`, () =>
      client.contacts.createAttribute({ attributeCategory: "normal", attributeName: name, type }));
  }

  const folder = await step("createFolder", () => client.contacts.createFolder({ name: "tajo" }));
  if (!folder) return;
  shape("createFolder", folder, "CreateFolderResponse");
  const gotFolder = await step("getFolder", () => client.contacts.getFolder({ folderId: folder.id }));
  if (gotFolder) {
    shape("getFolder", gotFolder, "GetFolder");
    check("getFolder", gotFolder.id === folder.id && gotFolder.name === "tajo", `got ${JSON.stringify(gotFolder)}`);
  }
  const folders = await step("getFolders", () => client.contacts.getFolders({ limit: 50, offset: 0 }));
  if (folders) for (const f of folders.folders || []) shape("getFolders item", f, "GetFolder");

  const list = await step("createList", () => client.contacts.createList({ name: "Braze users", folderId: folder.id }));
  if (!list) return;
  shape("createList", list, "CreateListResponse");
  const gotList = await step("getList", () => client.contacts.getList({ listId: list.id }));
  if (gotList) shape("getList", gotList, "GetListResponse");
  const lists = await step("getLists", () => client.contacts.getLists({ limit: 50, offset: 0 }));
  if (lists) for (const l of lists.lists || []) shape("getLists item", l, "GetListsResponse.Lists.Item");
  const folderLists = await step("getFolderLists", () => client.contacts.getFolderLists({ folderId: folder.id }));
  if (folderLists) {
    for (const l of folderLists.lists || []) shape("getFolderLists item", l, "GetList");
    check("getFolderLists", folderLists.count === 1 && folderLists.lists[0].id === list.id, `got ${JSON.stringify(folderLists)}`);
  }

  const created = await step("createContact", () => client.contacts.createContact({
    email: "ann@example.com", ext_id: "cust_0000001", listIds: [list.id],
    attributes: { FIRSTNAME: "Ann", LOYALTY_POINTS: 12, DOB: "1990-01-02", SMS: "+33612345678" },
  }));
  if (created) shape("createContact", created, "CreateContactResponse");
  const second = await step("createContact 2", () => client.contacts.createContact({ email: "bob@example.com", ext_id: "cust_0000002" }));
  const upd = await step("createContact updateEnabled", () =>
    client.contacts.createContact({ email: "ann@example.com", updateEnabled: true, attributes: { LASTNAME: "Lee" } }));
  check("createContact updateEnabled", upd === undefined, `a 204 should read as no body, got ${JSON.stringify(upd)}`);
  const withID = await step("createContact getId", () =>
    client.contacts.createContact({ email: "ann@example.com", updateEnabled: true, getId: true }));
  check("createContact getId", withID && created && withID.id === created.id, `getId answered ${JSON.stringify(withID)}`);
  const merged = await step("createContact forceMerge", () =>
    client.contacts.createContact({ email: "bob@example.com", ext_id: "cust_0000001", forceMerge: true, getId: true }));
  check("createContact forceMerge", merged && typeof merged.id === "number", `forceMerge answered ${JSON.stringify(merged)}`);

  await step("updateContact", () => client.contacts.updateContact({
    identifier: "cust_0000001", identifierType: "ext_id", attributes: { PUSH_OPTIN: true },
  }));
  const info = await step("getContactInfo", () => client.contacts.getContactInfo({ identifier: "cust_0000001", identifierType: "ext_id" }));
  if (info) {
    shape("getContactInfo", info, "GetContactInfoResponse");
    shape("getContactInfo statistics", info.statistics, "GetContactInfoResponse.Statistics");
  }

  const all = await step("getContacts", () => client.contacts.getContacts({ limit: 50, sort: "asc" }));
  if (all) {
    shape("getContacts", all, "GetContacts");
    for (const c of all.contacts) shape("getContacts item", c, "GetContactDetails");
  }
  if (all && all.contacts.length > 0) {
    const id = all.contacts[0].id;
    const byIds = await step("getContacts ids", () => client.contacts.getContacts({ ids: [id, 999999] }));
    check("getContacts ids", byIds && byIds.count === 1 && byIds.contacts.length === 1 && byIds.contacts[0].id === id,
      `ids=[${id},999999] answered ${JSON.stringify(byIds)}`);
  }

  const imp = await step("importContacts", () => client.contacts.importContacts({
    listIds: [list.id], updateExistingContacts: true, emptyContactsAttributes: false,
    jsonBody: [
      { email: "carl@example.com", attributes: { EXT_ID: "cust_0000003", FIRSTNAME: "Carl" } },
      { email: "dora@example.com", attributes: { EXT_ID: "cust_0000004", LOYALTY_POINTS: 3.5 } },
    ],
  }));
  if (imp) {
    shape("importContacts", imp, "ImportContactsResponse");
    await waitProcess("import", imp.processId);
  }

  // The import put Carl in the list: out, then back in with a stranger, who
  // fails alone.
  const rm = await step("removeContactFromList", () =>
    client.contacts.removeContactFromList({ listId: list.id, body: { emails: ["carl@example.com"] } }));
  if (rm) shape("removeContactFromList", rm, "PostContactInfo");
  const add = await step("addContactToList", () =>
    client.contacts.addContactToList({ listId: list.id, body: { emails: ["carl@example.com", "nobody@example.com"] } }));
  if (add) {
    shape("addContactToList", add, "PostContactInfo");
    const c = add.contacts || {};
    check("addContactToList", JSON.stringify([c.success, c.failure]) === '[["carl@example.com"],["nobody@example.com"]]',
      `answered ${JSON.stringify(add)}`);
  }
  const members = await step("getContactsFromList", () => client.contacts.getContactsFromList({ listId: list.id, limit: 500 }));
  if (members) {
    shape("getContactsFromList", members, "GetContacts");
    for (const c of members.contacts) shape("getContactsFromList item", c, "GetContactDetails");
  }
  const rmAll = await step("removeContactFromList all", () =>
    client.contacts.removeContactFromList({ listId: list.id, body: { all: true } }));
  if (rmAll) {
    shape("removeContactFromList all", rmAll, "PostContactInfo");
    if (rmAll.contacts && rmAll.contacts.processId) await waitProcess("remove all", rmAll.contacts.processId);
    else failures.push(`removeContactFromList all: no processId in ${JSON.stringify(rmAll)}`);
  }
  const procs = await step("getProcesses", () => client.process.getProcesses({ limit: 50 }));
  if (procs) {
    shape("getProcesses", procs, "GetProcessesResponse");
    const names = enumValues("GetProcessesResponse.Processes.Item.Name");
    for (const p of procs.processes) {
      shape("getProcesses item", p, "GetProcessesResponse.Processes.Item");
      check("getProcesses item", names.includes(p.name), `process name ${p.name} is not one of the SDK's ${names}`);
    }
  }

  await step("createEvent", () => client.event.createEvent({
    event_name: "order_created", event_date: "2026-03-01T12:00:00+01:00",
    identifiers: { ext_id: "cust_0000003" }, event_properties: { total: 42.5, currency: "EUR" },
  }));
  await step("createBatchEvents", () => client.event.createBatchEvents({
    events: [
      { event_name: "cart_viewed", identifiers: { email_id: "dora@example.com" } },
      { event_name: "cart_viewed", identifiers: { ext_id: "cust_0000003" }, contact_properties: { FIRSTNAME: "Carlos" } },
    ],
  }));
  // A batch with an invalid event answers 207, which the SDK takes for
  // success: its body is the per-event report.
  const partial = await step("createBatchEvents partial", () => client.event.createBatchEvents({
    events: [
      { event_name: "cart_viewed", identifiers: { email_id: "dora@example.com" } },
      { event_name: "cart viewed", identifiers: { email_id: "dora@example.com" } },
    ],
  }));
  if (partial) {
    shape("createBatchEvents partial", partial, "BatchEventsResponse");
    check("createBatchEvents partial", partial.failed_events === 1 && partial.errors[0].eventIndex[0] === 1,
      `207 body ${JSON.stringify(partial)}`);
  }
  if (second === undefined) failures.push("createContact 2 gave nothing to merge");
}

main()
  .catch((err) => failures.push(`session: ${err && err.stack || err}`))
  .finally(() => {
    for (const f of failures) console.log(`FAIL ${f}`);
    console.log(failures.length === 0 ? "PASS" : `${failures.length} failure(s)`);
    process.exitCode = failures.length === 0 ? 0 : 1;
  });
