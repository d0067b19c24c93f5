/**
 * @tajo/sdk: a thin client of the tajo gateway's control API and
 * handleEvent (see services/gateway/openapi.yaml). Every call sends the
 * Tajo API key as "Authorization: Bearer"; an answer other than 2xx
 * rejects with a TajoError carrying the status and the gateway's
 * {error, message}.
 */

export interface TajoClientOptions {
  /** A Tajo API key (`tajo apikeys create`). */
  apiKey: string;
  /** The Brevo API key, sent by connect() when the call gives none. */
  brevoApiKey?: string;
  /** The gateway, e.g. "http://127.0.0.1:8080". */
  baseUrl?: string;
  /** fetch to use; default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface ConnectOptions {
  apiKey: string;
  instanceUrl: string;
  brevoApiKey?: string;
}

export interface ConnectResult {
  connected: boolean;
  stored?: boolean;
  message?: string;
}

export interface SyncOptions {
  type?: "full" | "incremental";
  resources?: string[];
  since?: string | Date;
  batchSize?: number;
}

export interface SyncResult {
  runId: string;
  status: string;
  statusUrl?: string;
}

export interface Run {
  id: string;
  resource: string;
  type: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs?: number;
  exported?: number;
  done: boolean;
  error?: string;
  outcome?: Record<string, number>;
}

export interface Status {
  connector?: string;
  connected: boolean;
  lastSync: Run | null;
  usersCount: number;
  campaignsTracked: number;
  eventsProcessed: number;
  resources?: Record<string, Run>;
  [key: string]: unknown;
}

export interface TajoEvent {
  type: string;
  payload: {
    id?: string;
    external_id?: string;
    email?: string;
    name?: string;
    time?: number | string;
    properties?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

export interface HandleEventResult {
  accepted: number;
  ids: string[];
}

export interface ExportSegmentOptions {
  /** The Braze segment's id (or a name only one segment has). */
  segmentId: string;
  /** The Brevo list id the segment's users join. */
  targetList: number | string;
  /** Braze fields of the field mapping to write (default: every mapped field). */
  includeAttributes?: string[];
}

export interface ExportSegmentResult {
  /** Contacts created or updated in the list. */
  count: number;
  /** Users with neither external_id nor a valid email. */
  skipped?: number;
  segmentId?: string;
  segmentName?: string;
  listId?: number;
}

export interface ReportOptions {
  /** First day of the period (YYYY-MM-DD or a Date); default the first day read. */
  since?: string | Date;
  /** Last day of the period; default today. */
  until?: string | Date;
}

/** Figures summed across channels (see the gateway's openapi.yaml). */
export interface Figures {
  sent: number;
  delivered: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
  bounces: number;
  conversions: number;
  revenue: number;
  entries?: number;
}

export interface ReportRow extends Figures {
  source: "braze" | "brevo";
  kind: "campaign" | "canvas" | "email";
  id: string;
  name: string;
  days?: number;
}

export interface Report {
  since: string;
  until: string;
  rows: ReportRow[];
  totals: Record<string, Figures>;
  campaignsTracked: number;
}

const day = (d: string | Date): string => (d instanceof Date ? d.toISOString().slice(0, 10) : d);

/** An answer other than 2xx. */
export class TajoError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`tajo: ${status} ${code}: ${message}`);
    this.name = "TajoError";
    this.status = status;
    this.code = code;
  }
}

const connectorPath = (connector: string): string => {
  if (connector !== "braze") {
    throw new TajoError(0, "unknown_connector", `unknown connector "${connector}": the only connector is braze`);
  }
  return "/v1/connectors/braze";
};

/** The calls under client.connectors. */
export class Connectors {
  constructor(private readonly client: TajoClient) {}

  /** Stores the connector's credentials (what `tajo connectors install` does). */
  connect(connector: string, options: ConnectOptions): Promise<ConnectResult> {
    const body = { ...options, brevoApiKey: options.brevoApiKey ?? this.client.brevoApiKey };
    return this.client.request("POST", connectorPath(connector) + "/connect", body);
  }

  /** Starts a sync run; follow it with run() or waitForRun(). */
  sync(connector: string, options: SyncOptions = {}): Promise<SyncResult> {
    const body = { ...options, since: options.since instanceof Date ? options.since.toISOString() : options.since };
    return this.client.request("POST", connectorPath(connector) + "/sync", body);
  }

  /** A sync run. */
  run(connector: string, runId: string): Promise<Run> {
    return this.client.request("GET", connectorPath(connector) + "/runs/" + encodeURIComponent(runId));
  }

  /** Polls a run until it is done (or timeoutMs passes). */
  async waitForRun(connector: string, runId: string, timeoutMs = 120_000, pollMs = 500): Promise<Run> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.run(connector, runId);
      if (r.done) return r;
      if (Date.now() > deadline) throw new TajoError(0, "timeout", `run ${runId} not done after ${timeoutMs}ms`);
      await new Promise((res) => setTimeout(res, pollMs));
    }
  }

  /** The connector's status. */
  status(connector: string): Promise<Status> {
    return this.client.request("GET", connectorPath(connector) + "/status");
  }

  /** Campaign and Canvas analytics of a period, beside Brevo's email campaigns. */
  report(connector: string, options: ReportOptions = {}): Promise<Report> {
    const q = new URLSearchParams();
    if (options.since !== undefined) q.set("since", day(options.since));
    if (options.until !== undefined) q.set("until", day(options.until));
    const query = q.toString();
    return this.client.request("GET", connectorPath(connector) + "/report" + (query ? "?" + query : ""));
  }

  /** Sends one event, or several, to Brevo contact timelines. */
  handleEvent(connector: string, event: TajoEvent | TajoEvent[]): Promise<HandleEventResult> {
    return this.client.request("POST", connectorPath(connector) + "/events", event);
  }

  /**
   * Exports a Braze segment into a Brevo list once: the users' contacts are
   * created or updated with the attributes asked for and join the list. The
   * promise settles when the export is done.
   */
  exportSegment(connector: string, options: ExportSegmentOptions): Promise<ExportSegmentResult> {
    return this.client.request("POST", connectorPath(connector) + "/segments/export", options);
  }
}

/** The tajo gateway's client. */
export class TajoClient {
  readonly connectors: Connectors;
  readonly brevoApiKey?: string;
  private readonly apiKey: string;
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;

  constructor(options: TajoClientOptions) {
    if (!options || !options.apiKey) {
      throw new TajoError(0, "no_api_key", "apiKey is required: create one with `tajo apikeys create`");
    }
    this.apiKey = options.apiKey;
    this.brevoApiKey = options.brevoApiKey;
    this.baseUrl = (options.baseUrl ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.connectors = new Connectors(this);
  }

  /** @internal */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}`, Accept: "application/json" };
    let payload: string | undefined;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const resp = await this.fetchFn(this.baseUrl + path, { method, headers, body: payload });
    const text = await resp.text();
    let data: any = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        throw new TajoError(resp.status, "bad_response", `the gateway's answer is not JSON: ${text.slice(0, 200)}`);
      }
    }
    if (!resp.ok) {
      throw new TajoError(resp.status, data?.error ?? "error", data?.message ?? resp.statusText);
    }
    return data as T;
  }
}
