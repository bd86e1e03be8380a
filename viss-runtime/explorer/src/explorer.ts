// The signal explorer: a static page every vssgen VISS server serves at /explorer/.
//
// It knows no tree of its own. It asks the server where its transports are
// (endpoints.json), connects the TypeScript SDK's client (WebSocket when there is one,
// HTTPS without live values otherwise), reads the trees' metadata with a metadata-filtered
// get on each root and draws them. A selected leaf shows its metadata and value, live by
// subscription; an actuator gets an input whose value is checked by an SDK codec built from
// the node's datatype, min, max and allowed list before anything is sent.
//
// Stable hooks for tests and scripts: tree rows carry data-path, data-kind and
// data-datatype; #search, #value (data-state, data-ts, data-updates), #live (data-live),
// #set-input, #set-button, #set-status, #error (data-kind, data-number, data-reason),
// #status (data-state).

import { VissClient, VissClientError, VissError } from "../../../templates/sdk/typescript/static/client.js";
import type { Subscription } from "../../../templates/sdk/typescript/static/client.js";
import * as codec from "../../../templates/sdk/typescript/static/codec.js";
import type { Codec } from "../../../templates/sdk/typescript/static/codec.js";
import { Filter } from "../../../templates/sdk/typescript/static/filter.js";
import { Actuator } from "../../../templates/sdk/typescript/static/leaf.js";

// ---------------------------------------------------------------------------------------------
// Model

type Json = Record<string, unknown>;

/** One node of a served tree, built from the metadata answer. */
interface TreeNode {
  readonly path: string;
  readonly name: string;
  /** "branch", "sensor", "actuator", "attribute" (or whatever the server says). */
  readonly kind: string;
  readonly datatype: string | undefined;
  /** The node's metadata without its children. */
  readonly meta: Json;
  readonly parent: TreeNode | undefined;
  readonly children: TreeNode[];
  /** Lower-case path, for the search. */
  readonly key: string;
}

interface Endpoints {
  ws: string | null;
  http: string | null;
  /** Optional: the roots to list; default the primary tree and the Server tree. */
  roots: string[] | undefined;
}

/** How an actuator's input turns into a checked value. */
interface InputPlan {
  /** The SDK codec: checks the typed value (datatype, min/max, allowed) before sending. */
  readonly codec: Codec<unknown>;
  /** Input text -> typed value; throws TypeError when the text is not of the right kind. */
  parse(text: string): unknown;
  /** The input's form: free text, a choice, or JSON for arrays and structs. */
  readonly control: "text" | "select" | "json";
  readonly options: readonly string[];
  /** What the input takes, in words. */
  readonly hint: string;
}

const DEFAULT_ROOTS = ["Vehicle", "Server"];
/** Rows drawn at most while searching; more matches ask for a narrower filter. */
const MAX_SEARCH_ROWS = 1500;
const SCALAR_TYPES = new Set([
  "boolean", "string", "float", "double",
  "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
]);
const INT_TYPES = new Set(["int8", "uint8", "int16", "uint16", "int32", "uint32"]);
const BIGINT_TYPES = new Set(["int64", "uint64"]);
const FLOAT_TYPES = new Set(["float", "double"]);
const INLINE_ERROR_PREFIX = "viss-inline:";
/** Metadata shown first, in this order; the rest follows as the server sent it. */
const META_ORDER = ["type", "datatype", "unit", "min", "max", "allowed", "default", "pattern", "deprecation", "comment"];

const state = {
  client: undefined as VissClient | undefined,
  roots: [] as TreeNode[],
  byPath: new Map<string, TreeNode>(),
  /** Expanded branches while not searching. */
  expanded: new Set<string>(),
  /** Branches the user collapsed while searching (everything shown is open by default). */
  collapsedInSearch: new Set<string>(),
  terms: [] as string[],
  /** Roots asked for that the server did not describe. */
  missingRoots: [] as string[],
  selected: undefined as TreeNode | undefined,
  /** Bumped on every selection: answers for an older selection are dropped. */
  selection: 0,
  subscription: undefined as Subscription | undefined,
  plan: undefined as InputPlan | undefined,
  /** The user typed into the set input: do not overwrite it with the current value. */
  inputDirty: false,
  updates: 0,
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`explorer: #${id} is missing from index.html`);
  return element as T;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className !== undefined) created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A metadata value as text: strings as they are, lists joined, anything else as JSON. */
function metaText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((item) => typeof item !== "object")) return value.map(String).join(", ");
  return JSON.stringify(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Status line and errors

function setStatus(kind: string, text: string): void {
  const status = byId("status");
  status.dataset["state"] = kind;
  status.textContent = text;
}

/**
 * Shows an error plainly in #error. data-kind says where it came from: "check" (the
 * codec refused the value, nothing was sent), "viss" (the server's error: number,
 * reason, description), "connection" (no answer) or "other".
 */
function showError(what: string, error: unknown): void {
  const box = byId("error");
  box.replaceChildren();
  delete box.dataset["number"];
  delete box.dataset["reason"];
  let kind: string;
  let title: string;
  let detail: string;
  if (error instanceof VissError) {
    kind = "viss";
    title = `${what}: VISS error ${error.number} ${error.reason}`;
    detail = error.description;
    box.dataset["number"] = error.number;
    box.dataset["reason"] = error.reason;
  } else if (error instanceof RangeError || error instanceof TypeError) {
    kind = "check";
    title = `${what}: not sent, the value does not fit`;
    detail = error.message;
  } else if (error instanceof VissClientError) {
    kind = "connection";
    title = `${what}: ${error.code.replace(/_/g, " ")}`;
    detail = error.message;
  } else {
    kind = "other";
    title = `${what} failed`;
    detail = errorText(error);
  }
  box.dataset["kind"] = kind;
  const close = element("button", "error-close", "×");
  close.type = "button";
  close.title = "Dismiss";
  close.setAttribute("aria-label", "Dismiss the error");
  close.addEventListener("click", clearError);
  // The spaces keep the title and the detail apart in the element's text, not only on screen.
  box.append(element("strong", "error-title", title), " ", element("span", "error-detail", detail), " ", close);
  box.hidden = false;
}

function clearError(): void {
  const box = byId("error");
  box.hidden = true;
  box.replaceChildren();
  delete box.dataset["kind"];
  delete box.dataset["number"];
  delete box.dataset["reason"];
}

// ---------------------------------------------------------------------------------------------
// Endpoints and connection

/** endpoints.json sits beside index.html, three levels above this module. */
function pageBase(): URL {
  return new URL("../../../", import.meta.url);
}

async function loadEndpoints(): Promise<Endpoints> {
  const found: Endpoints = { ws: null, http: null, roots: undefined };
  try {
    const response = await fetch(new URL("endpoints.json", pageBase()), { cache: "no-store", signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body: unknown = await response.json();
    if (isObject(body)) {
      if (typeof body["ws"] === "string") found.ws = body["ws"];
      if (typeof body["http"] === "string") found.http = body["http"];
      const roots = body["roots"];
      if (Array.isArray(roots) && roots.every((root) => typeof root === "string")) found.roots = roots as string[];
    }
  } catch (error) {
    console.warn("explorer: endpoints.json could not be read", error);
  }
  found.ws = onPageHost(found.ws);
  found.http = found.http !== null && sameScheme(found.http) ? location.origin : onPageHost(found.http);
  // ?ws=…&http=…&roots=A,B override the server's answer (development, other servers).
  const query = new URLSearchParams(location.search);
  const ws = query.get("ws");
  const http = query.get("http");
  const roots = query.get("roots");
  if (ws !== null) found.ws = ws === "" ? null : ws;
  if (http !== null) found.http = http === "" ? null : http;
  if (roots !== null) found.roots = roots.split(",").map((root) => root.trim()).filter((root) => root !== "");
  if (found.http === null && (location.protocol === "https:" || location.protocol === "http:")) {
    found.http = location.origin;
  }
  return found;
}

/**
 * The page comes from the server's HTTP transport, so the host name the browser used (and
 * accepted the certificate for) is the one to connect to; endpoints.json contributes the
 * scheme and port. This also covers an endpoints.json whose host fell back to "localhost"
 * (a request without a Host header, as over HTTP/2, where the host travels as :authority).
 */
function onPageHost(address: string | null): string | null {
  if (address === null || !/^https?:$/.test(location.protocol)) return address;
  try {
    const url = new URL(address);
    if (url.hostname === location.hostname) return address;
    url.hostname = location.hostname;
    return url.href.replace(/\/$/, "");
  } catch {
    return address;
  }
}

/** The HTTP endpoint speaks the page's own scheme: it is the transport that served the page. */
function sameScheme(address: string): boolean {
  try {
    return new URL(address).protocol === location.protocol;
  } catch {
    return false;
  }
}

async function connect(endpoints: Endpoints): Promise<VissClient> {
  let wsFailure = "";
  if (endpoints.ws !== null) {
    setStatus("connecting", `Connecting to ${endpoints.ws}…`);
    try {
      const client = await VissClient.connect({ url: endpoints.ws, timeoutMs: 10_000 });
      watchConnection(client, endpoints.ws);
      setStatus("live", `Connected: ${endpoints.ws}`);
      return client;
    } catch (error) {
      wsFailure = errorText(error);
      console.warn("explorer: WebSocket connection failed, falling back to HTTPS", error);
    }
  }
  if (endpoints.http === null) throw new VissClientError("connection_failed", `no transport to connect to${wsFailure === "" ? "" : ` (${wsFailure})`}`);
  const client = await VissClient.connect({ url: endpoints.http, timeoutMs: 10_000 });
  const why = endpoints.ws === null ? "the server has no WebSocket" : `WebSocket failed: ${wsFailure}`;
  setStatus("https", `${endpoints.http}, no live values (${why})`);
  return client;
}

function watchConnection(client: VissClient, url: string): void {
  client.on("close", () => setStatus("reconnecting", `Connection to ${url} lost, reconnecting…`));
  client.on("reconnecting", (attempt: number) => setStatus("reconnecting", `Reconnecting to ${url} (attempt ${attempt})…`));
  client.on("open", () => setStatus("live", `Connected: ${url}`));
  client.on("error", (error: unknown) => console.warn("explorer: client error", error));
}

// ---------------------------------------------------------------------------------------------
// The tree

function buildNode(name: string, path: string, raw: Json, parent: TreeNode | undefined): TreeNode {
  const meta: Json = {};
  for (const [key, value] of Object.entries(raw)) if (key !== "children") meta[key] = value;
  const node: TreeNode = {
    path,
    name,
    kind: typeof raw["type"] === "string" ? raw["type"] : "branch",
    datatype: typeof raw["datatype"] === "string" ? raw["datatype"] : undefined,
    meta,
    parent,
    children: [],
    key: path.toLowerCase(),
  };
  state.byPath.set(path, node);
  const children = raw["children"];
  if (isObject(children)) {
    for (const [childName, child] of Object.entries(children)) {
      if (isObject(child)) node.children.push(buildNode(childName, `${path}.${childName}`, child, node));
    }
  }
  return node;
}

async function loadTree(client: VissClient, roots: readonly string[], explicit: boolean): Promise<void> {
  const failures: string[] = [];
  let lastError: unknown;
  for (const root of roots) {
    try {
      const answer: unknown = await client.get(root, Filter.metadata());
      const metadata = isObject(answer) ? answer["metadata"] : undefined;
      const name = root.split(".").pop() ?? root;
      const own = isObject(metadata) ? metadata[name] : undefined;
      if (!isObject(own)) throw new Error(`the answer for ${root} has no metadata`);
      state.roots.push(buildNode(name, root, own, undefined));
    } catch (error) {
      // The default roots are a guess (a server may not have a Server tree): only a miss
      // that leaves nothing to show, or a root asked for by name, is reported.
      failures.push(root);
      lastError = error;
      if (explicit) showError(`Metadata of ${root}`, error);
      console.warn(`explorer: no metadata for ${root}`, error);
    }
  }
  if (state.roots.length === 0 && !explicit) showError(`Metadata of ${failures.join(", ")}`, lastError);
  for (const root of state.roots) state.expanded.add(root.path);
  const search = byId<HTMLInputElement>("search");
  search.disabled = state.roots.length === 0;
  state.missingRoots = failures;
  renderTree();
  if (state.roots.length === 0) byId("tree-summary").textContent = `No tree could be read (${failures.join(", ")}).`;
}

/** Does this node's path contain every search term? */
function matches(node: TreeNode): boolean {
  return state.terms.every((term) => node.key.includes(term));
}

/** While searching: the matching nodes and their ancestors, or undefined when not searching. */
function visibleWhileSearching(): { shown: Set<TreeNode>; matched: number; cut: boolean } | undefined {
  if (state.terms.length === 0) return undefined;
  const shown = new Set<TreeNode>();
  let matched = 0;
  let cut = false;
  const visit = (node: TreeNode): void => {
    if (matches(node)) {
      matched += 1;
      if (matched <= MAX_SEARCH_ROWS) {
        for (let at: TreeNode | undefined = node; at !== undefined && !shown.has(at); at = at.parent) shown.add(at);
      } else {
        cut = true;
      }
    }
    node.children.forEach(visit);
  };
  state.roots.forEach(visit);
  return { shown, matched, cut };
}

let searchView: Set<TreeNode> | undefined;

function isExpanded(node: TreeNode): boolean {
  return searchView !== undefined ? !state.collapsedInSearch.has(node.path) : state.expanded.has(node.path);
}

function renderTree(): void {
  const tree = byId("tree");
  const summary = byId("tree-summary");
  const search = visibleWhileSearching();
  searchView = search?.shown;
  const rows = state.roots.filter((root) => searchView === undefined || searchView.has(root)).map(renderItem);
  tree.replaceChildren(...rows);
  const total = state.byPath.size;
  if (search === undefined) {
    const missing = state.missingRoots.length === 0 ? "" : ` (not served: ${state.missingRoots.join(", ")})`;
    summary.textContent = `${total} nodes in ${state.roots.map((root) => root.name).join(", ")}${missing}`;
  } else if (search.matched === 0) {
    summary.textContent = `No path matches “${byId<HTMLInputElement>("search").value.trim()}”.`;
  } else {
    summary.textContent = search.cut
      ? `${search.matched} of ${total} nodes match; the first ${MAX_SEARCH_ROWS} are shown, narrow the filter.`
      : `${search.matched} of ${total} nodes match`;
  }
  summary.dataset["matches"] = String(search?.matched ?? total);
}

function renderItem(node: TreeNode): HTMLLIElement {
  const item = element("li", "node");
  item.setAttribute("role", "none");
  const row = element("button", "row");
  row.type = "button";
  row.setAttribute("role", "treeitem");
  row.dataset["path"] = node.path;
  row.dataset["kind"] = node.kind;
  if (node.datatype !== undefined) row.dataset["datatype"] = node.datatype;
  row.setAttribute("aria-selected", String(state.selected === node));
  row.tabIndex = state.selected === node || (state.selected === undefined && node.parent === undefined) ? 0 : -1;
  row.title = node.path;
  const branch = node.children.length > 0;
  const twisty = element("span", "twisty", branch ? (isExpanded(node) ? "▾" : "▸") : "");
  twisty.setAttribute("aria-hidden", "true");
  row.append(twisty, element("span", "name", node.name), element("span", `badge kind-${node.kind}`, node.kind));
  if (node.datatype !== undefined) row.append(element("span", "datatype", node.datatype));
  if (searchView !== undefined && !matches(node)) row.classList.add("context");
  item.append(row);
  if (branch) {
    row.setAttribute("aria-expanded", String(isExpanded(node)));
    if (isExpanded(node)) item.append(renderGroup(node));
  }
  return item;
}

function renderGroup(node: TreeNode): HTMLUListElement {
  const group = element("ul", "group");
  group.setAttribute("role", "group");
  const children = searchView === undefined ? node.children : node.children.filter((child) => searchView?.has(child));
  group.append(...children.map(renderItem));
  return group;
}

function rowFor(path: string): HTMLButtonElement | undefined {
  return visibleRows().find((row) => row.dataset["path"] === path);
}

function setExpanded(node: TreeNode, open: boolean): void {
  if (node.children.length === 0 || isExpanded(node) === open) return;
  if (searchView !== undefined) {
    if (open) state.collapsedInSearch.delete(node.path);
    else state.collapsedInSearch.add(node.path);
  } else if (open) {
    state.expanded.add(node.path);
  } else {
    state.expanded.delete(node.path);
  }
  const row = rowFor(node.path);
  const item = row?.parentElement;
  if (row === undefined || item === null || item === undefined) return renderTree();
  row.setAttribute("aria-expanded", String(open));
  const twisty = row.querySelector(".twisty");
  if (twisty !== null) twisty.textContent = open ? "▾" : "▸";
  item.querySelector(":scope > ul.group")?.remove();
  if (open) item.append(renderGroup(node));
}

/** Opens the ancestors of a node so that its row exists, leaving the search if it hides it. */
function reveal(node: TreeNode): void {
  if (state.terms.length > 0 && !matchesOrLeadsTo(node)) {
    byId<HTMLInputElement>("search").value = "";
    state.terms = [];
  }
  const searching = state.terms.length > 0;
  for (let at = node.parent; at !== undefined; at = at.parent) {
    if (searching) state.collapsedInSearch.delete(at.path);
    else state.expanded.add(at.path);
  }
  renderTree();
}

/** Is the node shown while searching: it matches, or a node below it does? */
function matchesOrLeadsTo(node: TreeNode): boolean {
  return matches(node) || node.children.some(matchesOrLeadsTo);
}

function visibleRows(): HTMLButtonElement[] {
  // Array.from: the page's lib is ES2022 + DOM, without DOM.Iterable.
  return Array.from(byId("tree").querySelectorAll<HTMLButtonElement>("button.row"));
}

function focusRow(row: HTMLButtonElement | undefined): void {
  if (row === undefined) return;
  for (const other of visibleRows()) other.tabIndex = -1;
  row.tabIndex = 0;
  row.focus();
}

function onTreeKey(event: KeyboardEvent): void {
  const row = (event.target as HTMLElement).closest<HTMLButtonElement>("button.row");
  const node = row?.dataset["path"] === undefined ? undefined : state.byPath.get(row.dataset["path"]);
  if (row === null || node === undefined) return;
  const rows = visibleRows();
  const index = rows.indexOf(row);
  switch (event.key) {
    case "ArrowDown": focusRow(rows[index + 1]); break;
    case "ArrowUp": focusRow(rows[index - 1]); break;
    case "Home": focusRow(rows[0]); break;
    case "End": focusRow(rows[rows.length - 1]); break;
    case "ArrowRight":
      if (node.children.length > 0 && !isExpanded(node)) setExpanded(node, true);
      else if (node.children.length > 0) focusRow(visibleRows()[index + 1]);
      break;
    case "ArrowLeft":
      if (node.children.length > 0 && isExpanded(node)) setExpanded(node, false);
      else if (node.parent !== undefined) focusRow(rowFor(node.parent.path));
      break;
    default:
      return;
  }
  event.preventDefault();
}

function onTreeClick(event: MouseEvent): void {
  const row = (event.target as HTMLElement).closest<HTMLButtonElement>("button.row");
  const path = row?.dataset["path"];
  const node = path === undefined ? undefined : state.byPath.get(path);
  if (node === undefined) return;
  const onTwisty = (event.target as HTMLElement).closest(".twisty") !== null;
  if (node.children.length > 0 && (onTwisty || state.selected === node || !isExpanded(node))) {
    setExpanded(node, !isExpanded(node));
  }
  if (!onTwisty) void select(node);
}

let searchTimer: ReturnType<typeof setTimeout> | undefined;

function onSearch(): void {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    const text = byId<HTMLInputElement>("search").value;
    const wasSearching = state.terms.length > 0;
    state.terms = text.toLowerCase().split(/\s+/).filter((term) => term !== "");
    state.collapsedInSearch.clear();
    const selected = state.selected;
    if (wasSearching && state.terms.length === 0 && selected !== undefined) {
      // Back to the whole tree: keep the node picked from the results in view.
      reveal(selected);
      rowFor(selected.path)?.scrollIntoView({ block: "nearest" });
    } else {
      renderTree();
    }
  }, 120);
}

// ---------------------------------------------------------------------------------------------
// The selected node: metadata, value, live updates

async function select(node: TreeNode): Promise<void> {
  const token = ++state.selection;
  state.selected = node;
  if (hashPath() !== node.path) history.replaceState(null, "", `#${node.path}`);
  for (const row of Array.from(byId("tree").querySelectorAll<HTMLButtonElement>('button.row[aria-selected="true"]'))) {
    row.setAttribute("aria-selected", "false");
  }
  const row = rowFor(node.path);
  if (row !== undefined) {
    row.setAttribute("aria-selected", "true");
    for (const other of visibleRows()) other.tabIndex = other === row ? 0 : -1;
  }
  clearError();
  dropSubscription();
  renderDetail(node);
  if (node.kind === "branch" || state.client === undefined) return;
  const client = state.client;
  await refreshValue(token);
  if (token !== state.selection) return;
  if (client.transport === "https" || client.transport === "http") {
    setLive("off", "HTTPS: no live values, use Refresh");
    return;
  }
  await subscribe(client, node, token);
}

function dropSubscription(): void {
  const subscription = state.subscription;
  state.subscription = undefined;
  // Unsubscribing must not hold up the next selection; an error here changes nothing for the user.
  if (subscription !== undefined) subscription.unsubscribe().catch((error: unknown) => console.warn("explorer: unsubscribe", error));
}

async function subscribe(client: VissClient, node: TreeNode, token: number): Promise<void> {
  const scalar = node.datatype !== undefined && SCALAR_TYPES.has(node.datatype);
  // Scalars: an event on every change. Arrays and structs, which change filters do not
  // cover: the current value every 500 ms.
  const filter = scalar ? Filter.change("ne", 0) : Filter.timebased(500);
  const label = scalar ? "live: on change" : "live: every 500 ms";
  setLive("pending", "subscribing…");
  try {
    const subscription = await client.subscribe(node.path, filter, (data: unknown) => {
      if (token === state.selection) showPoint(pointOf(data, node.path));
    }, (error: VissError) => {
      if (token !== state.selection) return;
      setLive("ended", "live updates ended");
      showError(`Subscription to ${node.path} ended`, error);
    });
    if (token !== state.selection) {
      subscription.unsubscribe().catch(() => undefined);
      return;
    }
    state.subscription = subscription;
    setLive("on", label);
  } catch (error) {
    if (token !== state.selection) return;
    setLive("off", "not live");
    showError(`Subscribe to ${node.path}`, error);
  }
}

function setLive(mode: string, text: string): void {
  const live = byId("live");
  live.dataset["live"] = mode;
  live.textContent = text;
}

/** The data point for `path` in a `data` member (one item or an array; dp one or several). */
function pointOf(data: unknown, path: string): Json | undefined {
  const items = (Array.isArray(data) ? data : [data]).filter(isObject);
  const item = items.find((candidate) => candidate["path"] === path) ?? (items.length === 1 ? items[0] : undefined);
  const dp = item?.["dp"];
  const point: unknown = Array.isArray(dp) ? dp[dp.length - 1] : dp;
  return isObject(point) ? point : undefined;
}

async function refreshValue(token: number): Promise<void> {
  const node = state.selected;
  const client = state.client;
  if (node === undefined || client === undefined || node.kind === "branch") return;
  try {
    const answer: unknown = await client.get(node.path);
    if (token === state.selection) showPoint(pointOf(isObject(answer) ? answer["data"] : undefined, node.path));
  } catch (error) {
    if (token !== state.selection) return;
    if (error instanceof VissError && error.number === "404") {
      showValue("unavailable", `no value (${error.reason}: ${error.description})`, undefined);
    } else {
      showError(`Get ${node.path}`, error);
    }
  }
}

function showPoint(point: Json | undefined): void {
  const value = point?.["value"];
  const ts = typeof point?.["ts"] === "string" ? point["ts"] : undefined;
  if (value === undefined || value === null) return showValue("empty", "no value", ts);
  if (typeof value === "string" && value.startsWith(INLINE_ERROR_PREFIX)) {
    return showValue("unavailable", `not available (${value.slice(INLINE_ERROR_PREFIX.length)})`, ts);
  }
  showValue("ok", formatWire(value), ts);
  // Offer the current value as the starting point of a set, until the user types.
  const input = document.getElementById("set-input") as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | null;
  if (input !== null && !state.inputDirty && state.plan !== undefined) {
    input.value = state.plan.control === "json" ? JSON.stringify(value) : formatWire(value);
    updateCheck();
  }
}

/** The wire value as text: scalars exactly as sent (VISS sends them as strings), else JSON. */
function formatWire(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((item) => typeof item !== "object")) return JSON.stringify(value);
  return JSON.stringify(value, null, 2);
}

function resetValue(): void {
  const value = byId("value");
  value.dataset["state"] = "empty";
  value.textContent = "—";
  value.classList.remove("flash");
  delete value.dataset["ts"];
  delete value.dataset["updates"];
  state.updates = 0;
  byId("value-ts").textContent = "";
}

function showValue(kind: string, text: string, ts: string | undefined): void {
  const value = byId("value");
  value.dataset["state"] = kind;
  value.textContent = text;
  state.updates += 1;
  value.dataset["updates"] = String(state.updates);
  if (ts !== undefined) value.dataset["ts"] = ts;
  else delete value.dataset["ts"];
  byId("value-ts").textContent = ts === undefined ? "" : `at ${ts}`;
  value.classList.remove("flash");
  // Restart the highlight animation (reading offsetWidth forces the style change).
  void value.offsetWidth;
  value.classList.add("flash");
}

function renderDetail(node: TreeNode): void {
  byId("placeholder").hidden = true;
  byId("node").hidden = false;
  byId("node").dataset["path"] = node.path;
  byId("node").dataset["kind"] = node.kind;
  byId("node-path").textContent = node.path;
  const description = node.meta["description"];
  byId("node-description").textContent = typeof description === "string" ? description : "";

  const body = byId("metadata").querySelector("tbody");
  if (body !== null) {
    const keys = Object.keys(node.meta).filter((key) => key !== "description");
    keys.sort((a, b) => rank(a) - rank(b));
    const rows = keys.map((key) => {
      const row = element("tr");
      row.dataset["key"] = key;
      row.append(element("th", undefined, key), element("td", undefined, metaText(node.meta[key])));
      return row;
    });
    if (node.children.length > 0) {
      const row = element("tr");
      row.dataset["key"] = "children";
      row.append(element("th", undefined, "children"), element("td", undefined, node.children.map((child) => child.name).join(", ")));
      rows.push(row);
    }
    body.replaceChildren(...rows);
  }

  const leaf = node.kind !== "branch";
  byId("value-box").hidden = !leaf;
  resetValue();
  byId("unit").textContent = typeof node.meta["unit"] === "string" ? node.meta["unit"] : "";
  setLive("off", "");
  renderSetForm(node);
}

function rank(key: string): number {
  const index = META_ORDER.indexOf(key);
  return index === -1 ? META_ORDER.length : index;
}

// ---------------------------------------------------------------------------------------------
// Setting actuators: a codec from the metadata checks the value before it is sent

function numberOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function bigintOf(value: unknown): bigint | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  try {
    return BigInt(String(value));
  } catch {
    return undefined;
  }
}

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_TEXT = /^[+-]?\d+$/;

function quote(text: string): string {
  return JSON.stringify(text);
}

/** Text -> typed scalar of a VSS primitive type; TypeError when it is not of that kind. */
function scalarParser(type: string): ((text: string) => unknown) | undefined {
  if (type === "string") return (text) => text;
  if (type === "boolean") {
    return (text) => {
      const word = text.trim().toLowerCase();
      if (word === "true") return true;
      if (word === "false") return false;
      throw new TypeError(`boolean: ${quote(text)} is neither true nor false`);
    };
  }
  if (INT_TYPES.has(type) || FLOAT_TYPES.has(type)) {
    return (text) => {
      const trimmed = text.trim();
      if (trimmed === "") throw new TypeError(`${type}: enter a number`);
      if (!NUMBER_TEXT.test(trimmed)) throw new TypeError(`${type}: ${quote(text)} is not a number`);
      return Number(trimmed);
    };
  }
  if (BIGINT_TYPES.has(type)) {
    return (text) => {
      const trimmed = text.trim();
      if (trimmed === "") throw new TypeError(`${type}: enter an integer`);
      if (!INTEGER_TEXT.test(trimmed)) throw new TypeError(`${type}: ${quote(text)} is not an integer`);
      return BigInt(trimmed);
    };
  }
  return undefined;
}

/** The SDK codec of a VSS primitive type with the node's limits. */
function scalarCodec(type: string, meta: Json): Codec<unknown> | undefined {
  let base: Codec<any>;
  if (type === "boolean") base = codec.boolean();
  else if (type === "string") base = withPattern(codec.string(), meta["pattern"]);
  else if (INT_TYPES.has(type)) base = codec.int(type as codec.IntType, numberOf(meta["min"]), numberOf(meta["max"]));
  else if (BIGINT_TYPES.has(type)) base = codec.bigint(type as codec.BigIntType, bigintOf(meta["min"]), bigintOf(meta["max"]));
  else if (FLOAT_TYPES.has(type)) base = codec.float(type as codec.FloatType, numberOf(meta["min"]), numberOf(meta["max"]));
  else return undefined;
  const allowed = allowedOf(meta);
  if (allowed === undefined) return base;
  const parse = scalarParser(type);
  if (parse === undefined) return base;
  try {
    return codec.oneOf(base, allowed.map((item) => parse(item) as string | number | bigint));
  } catch {
    // An allowed list the datatype cannot read: let the server judge.
    return base;
  }
}

function allowedOf(meta: Json): string[] | undefined {
  const allowed = meta["allowed"];
  if (!Array.isArray(allowed) || allowed.length === 0) return undefined;
  return allowed.map((item) => (typeof item === "string" ? item : JSON.stringify(item)));
}

/** A string codec that also checks the node's `pattern` (when the browser's RegExp reads it). */
function withPattern(base: Codec<string>, pattern: unknown): Codec<string> {
  if (typeof pattern !== "string") return base;
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, "u");
  } catch {
    return base;
  }
  return {
    vssType: base.vssType,
    encode(value) {
      const wire = base.encode(value);
      if (!regex.test(value)) throw new RangeError(`string: ${quote(value)} does not match the pattern ${pattern}`);
      return wire;
    },
    decode: (wire) => base.decode(wire),
  };
}

/**
 * Structs and datatypes the page does not know: the metadata names the struct type but not
 * its members, so the value is JSON of the right shape, its scalars sent as the strings
 * VISS wants, and the server checks the members.
 */
function jsonCodec(datatype: string): Codec<unknown> {
  const isArray = datatype.endsWith("[]");
  const toWire = (value: unknown, where: string): unknown => {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (Array.isArray(value)) return value.map((item, index) => toWire(item, `${where}[${index}]`));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toWire(item, `${where}.${key}`)]));
    throw new TypeError(`${where}: ${value === null ? "null" : typeof value} has no VISS form`);
  };
  return {
    vssType: datatype,
    encode(value) {
      if (isArray && !Array.isArray(value)) throw new TypeError(`${datatype}: expected a JSON array`);
      if (!isArray && !isObject(value)) throw new TypeError(`${datatype}: expected a JSON object`);
      return toWire(value, datatype);
    },
    decode: (wire) => wire,
  };
}

function parseJson(text: string, datatype: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TypeError(`${datatype}: not JSON (${errorText(error)})`);
  }
}

function limitsText(meta: Json): string {
  const min = meta["min"];
  const max = meta["max"];
  const unit = typeof meta["unit"] === "string" ? ` ${meta["unit"]}` : "";
  if (min !== undefined && max !== undefined) return `, ${metaText(min)} … ${metaText(max)}${unit}`;
  if (min !== undefined) return `, at least ${metaText(min)}${unit}`;
  if (max !== undefined) return `, at most ${metaText(max)}${unit}`;
  return unit === "" ? "" : `, in${unit}`;
}

/** How this node's input becomes a checked value; undefined for a node without datatype. */
function planFor(node: TreeNode): InputPlan | undefined {
  const datatype = node.datatype;
  if (datatype === undefined) return undefined;
  const meta = node.meta;
  const allowed = allowedOf(meta);
  const isArray = datatype.endsWith("[]");
  const itemType = isArray ? datatype.slice(0, -2) : datatype;
  const parse = scalarParser(itemType);
  const scalar = scalarCodec(itemType, meta);
  const allowedText = allowed === undefined ? "" : `, one of ${allowed.join(", ")}`;
  if (parse === undefined || scalar === undefined) {
    return {
      codec: jsonCodec(datatype),
      parse: (text) => parseJson(text, datatype),
      control: "json",
      options: [],
      hint: isArray ? `${datatype}: a JSON array of objects` : `${datatype}: a JSON object with the struct's members`,
    };
  }
  if (isArray) {
    return {
      codec: codec.array(scalar),
      parse: (text) => {
        const list = parseJson(text, datatype);
        if (!Array.isArray(list)) throw new TypeError(`${datatype}: expected a JSON array like [${itemType === "string" ? '"a", "b"' : "1, 2"}]`);
        return list.map((item: unknown, index) => {
          if (typeof item === "string") return parse(item);
          if (typeof item === "number" || typeof item === "boolean") return parse(String(item));
          throw new TypeError(`${datatype}[${index}]: expected a ${itemType}`);
        });
      },
      control: "json",
      options: [],
      hint: `${datatype}: a JSON array${limitsText(meta)}${allowedText}${BIGINT_TYPES.has(itemType) ? " (quote large numbers)" : ""}`,
    };
  }
  const choices = allowed ?? (itemType === "boolean" ? ["true", "false"] : undefined);
  return {
    codec: scalar,
    parse,
    control: choices === undefined ? "text" : "select",
    options: choices ?? [],
    hint: `${datatype}${limitsText(meta)}${allowedText}${typeof meta["pattern"] === "string" ? `, matching ${meta["pattern"]}` : ""}`,
  };
}

function renderSetForm(node: TreeNode): void {
  const form = byId<HTMLFormElement>("set-form");
  const slot = byId("set-control");
  state.inputDirty = false;
  state.plan = undefined;
  byId("set-status").textContent = "";
  delete byId("set-status").dataset["state"];
  byId("set-check").textContent = "";
  byId("set-hint").textContent = "";
  slot.replaceChildren();
  let plan: InputPlan | undefined;
  try {
    plan = node.kind === "actuator" ? planFor(node) : undefined;
  } catch (error) {
    showError(`Input for ${node.path}`, error);
  }
  form.hidden = plan === undefined;
  if (plan === undefined) return;
  state.plan = plan;
  let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  if (plan.control === "select") {
    const select = element("select");
    select.append(...plan.options.map((option) => {
      const choice = element("option", undefined, option);
      choice.value = option;
      return choice;
    }));
    input = select;
  } else if (plan.control === "json") {
    const area = element("textarea");
    area.rows = 3;
    area.spellcheck = false;
    input = area;
  } else {
    const text = element("input");
    text.type = "text";
    text.autocomplete = "off";
    text.spellcheck = false;
    input = text;
  }
  input.id = "set-input";
  input.dataset["datatype"] = node.datatype ?? "";
  input.setAttribute("aria-describedby", "set-hint set-check");
  input.addEventListener("input", () => {
    state.inputDirty = true;
    updateCheck();
  });
  input.addEventListener("change", () => {
    state.inputDirty = true;
    updateCheck();
  });
  slot.append(input);
  byId("set-hint").textContent = plan.hint;
}

/** Checks the input as the user types (the same check the Set button runs). */
function updateCheck(): void {
  const plan = state.plan;
  const input = document.getElementById("set-input") as HTMLInputElement | null;
  if (plan === undefined || input === null) return;
  const check = byId("set-check");
  try {
    plan.codec.encode(plan.parse(input.value));
    input.removeAttribute("aria-invalid");
    check.textContent = "";
  } catch (error) {
    input.setAttribute("aria-invalid", "true");
    check.textContent = errorText(error);
  }
}

async function onSet(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const node = state.selected;
  const plan = state.plan;
  const client = state.client;
  const input = document.getElementById("set-input") as HTMLInputElement | null;
  if (node === undefined || plan === undefined || client === undefined || input === null) return;
  const token = state.selection;
  const status = byId("set-status");
  const button = byId<HTMLButtonElement>("set-button");
  clearError();
  status.dataset["state"] = "sending";
  status.textContent = "Sending…";
  button.disabled = true;
  try {
    // Parsing and the codec check (inside Actuator.set) throw before anything is sent.
    const value = plan.parse(input.value);
    await new Actuator<unknown>(client, node.path, plan.codec).set(value);
    if (token !== state.selection) return;
    state.inputDirty = false;
    status.dataset["state"] = "accepted";
    status.textContent = `Accepted at ${new Date().toLocaleTimeString()}; the value shows when the vehicle reports it.`;
    if (state.subscription === undefined) {
      // No live updates: read the value back a little later, when the vehicle has moved.
      for (const delay of [300, 1500]) setTimeout(() => void refreshValue(token), delay);
    }
  } catch (error) {
    if (token !== state.selection) return;
    status.dataset["state"] = "failed";
    status.textContent = "";
    showError(`Set ${node.path}`, error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up

/** The node path in the address's fragment (#Vehicle.Speed), or "". */
function hashPath(): string {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return "";
  }
}

function selectFromHash(): void {
  const node = state.byPath.get(hashPath());
  if (node === undefined || node === state.selected) return;
  reveal(node);
  rowFor(node.path)?.scrollIntoView({ block: "nearest" });
  void select(node);
}

async function main(): Promise<void> {
  byId("tree").addEventListener("click", onTreeClick);
  byId("tree").addEventListener("keydown", onTreeKey);
  byId("search").addEventListener("input", onSearch);
  byId("set-form").addEventListener("submit", (event) => void onSet(event as SubmitEvent));
  byId("refresh").addEventListener("click", () => void refreshValue(state.selection));
  window.addEventListener("hashchange", selectFromHash);

  const endpoints = await loadEndpoints();
  let client: VissClient;
  try {
    client = await connect(endpoints);
  } catch (error) {
    setStatus("offline", "Not connected");
    document.body.dataset["ready"] = "failed";
    byId("tree-summary").textContent = "No connection to the server.";
    showError("Connect", error);
    return;
  }
  state.client = client;
  await loadTree(client, endpoints.roots ?? DEFAULT_ROOTS, endpoints.roots !== undefined);
  document.body.dataset["ready"] = "true";
  selectFromHash();
}

void main();
