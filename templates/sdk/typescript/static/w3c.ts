// The client-library functions of the W3C VISS v1 draft ("JavaScript Library Interface
// Guidelines", "Required functions"), with promises instead of the draft's
// `(error, result)` callbacks, on top of the VISS v3 client of this SDK:
//
//   const conn = await W3CLibrary.connect("wss://localhost:6443", { ca });   // the draft's example
//   // or: const conn = new W3CLibrary({ ca }); await conn.connect("localhost", 6443);
//   await conn.authenticate(token);                     // adds a token to the connection
//   const vss = await conn.getVSS();                    // the tree, from the server's metadata
//   const [speedPath] = vss.findPathByCSS("vehicle > speed");
//   if (vss.canGet(speedPath)) console.log(await conn.get(speedPath));
//   const subscription = await conn.subscribe(speedPath, { interval: 1000, onValue: (value) => ... });
//   await conn.unsubscribe(subscription);                // or its id, or conn.unsubscribeAll()
//   conn.on("disconnect", ...); conn.onerror = ...;      // connection lifecycle
//   await conn.disconnect();
//
// The draft names the library object `W3CLibrary`; this class is it. It is tree-agnostic:
// values are converted with the datatype, min, max and allowed values the server's
// metadata gives (fetched once per tree root, again after authenticate()):
//   boolean -> boolean; int8..uint32, float, double -> number; int64, uint64 -> bigint;
//   string -> string; T[] -> arrays; structs -> objects as on the wire (strings inside).
// set() checks a value against the metadata before sending (RangeError / TypeError, as the
// typed tree does) and refuses to set anything but an actuator.
//
// CSS selectors over the VSS (the draft leaves the query language open and shows CSS). Every
// node is an element named by its node name; the tree roots are the top-level elements.
// Supported subset:
//   type selectors by node name, case-insensitive (`speed`, `Vehicle`), and `*`;
//   combinators: descendant (whitespace), child `>`, next sibling `+`, later sibling `~`;
//   selector lists with `,`;
//   attribute selectors over the node's metadata: `[unit]`, `[type=actuator]`,
//     `[datatype="boolean"]`, `[min^="-"]`, `[unit$=h]`, `[description*=seat i]` (`i` flag:
//     case-insensitive value), `[allowed~=OPEN]` (arrays are space-separated words), and the
//     synthetic attributes `name` and `path` (`[path^="Vehicle.Cabin."]`);
//   pseudo-classes: :root, :first-child, :last-child, :only-child, :empty / :leaf (no
//     children), :branch, :readable / :writable (canGet / canSet), :not(<selector list>).
// Not supported: ids, classes, namespaces, :nth-*(), pseudo-elements; they throw SyntaxError.

import { VissClient, VissError, type CallOptions, type ClientOptions, type Subscription } from "./client.js";
import * as codec from "./codec.js";
import { Filter } from "./filter.js";

// ---------------------------------------------------------------------------------------------
// The VSS object

/** One node's metadata as the server's metadata filter answers it (VISS CORE §7.7). */
export interface VssNode {
  type?: string;
  datatype?: string;
  description?: string;
  unit?: string;
  min?: string;
  max?: string;
  allowed?: string[];
  /** Access control: "write-only" or "read-write", optionally with "+consent"; inherited. */
  validate?: string;
  children?: Record<string, VssNode>;
  [member: string]: unknown;
}

/** The tree: root name -> root node (the shape of a metadata answer's `metadata` member). */
export type VssTree = Record<string, VssNode>;

interface Element {
  readonly name: string;
  readonly path: string;
  readonly node: VssNode;
  readonly parent: Element | undefined;
  readonly siblings: Element[];
  readonly index: number;
  readonly children: Element[];
}

function childrenOf(node: VssNode): [string, VssNode][] {
  const children: unknown = node.children;
  // The TRANSPORT WebSocket example lists children as names only.
  if (Array.isArray(children)) return children.filter((name): name is string => typeof name === "string").map((name) => [name, {}]);
  if (typeof children !== "object" || children === null) return [];
  return Object.entries(children as Record<string, VssNode>);
}

export class VSS {
  private readonly roots: Element[] = [];
  private readonly elements: Element[] = [];
  private readonly byPath = new Map<string, Element>();

  /**
   * @param tree the metadata of one or more roots ({ Vehicle: {...} })
   * @param authenticated whether the connection holds a token (for `validate`-tagged nodes)
   */
  constructor(private readonly tree: VssTree, private readonly authenticated = false) {
    const add = (entries: [string, VssNode][], parent: Element | undefined, siblings: Element[]): void => {
      entries.forEach(([name, node], index) => {
        const element: Element = {
          name, node, parent, siblings, index, children: [],
          path: parent === undefined ? name : `${parent.path}.${name}`,
        };
        siblings.push(element);
        this.elements.push(element);
        this.byPath.set(element.path, element);
        add(childrenOf(node), element, element.children);
      });
    };
    add(Object.entries(tree), undefined, this.roots);
  }

  /** The raw metadata tree rooted at `path` (a node), or the whole tree without one. */
  raw(path?: string): VssTree | VssNode | undefined {
    if (path === undefined) return this.tree;
    return this.byPath.get(normalize(path))?.node;
  }

  /** Every node path, in tree order. */
  paths(): string[] {
    return this.elements.map((element) => element.path);
  }

  /** Whether this connection may read `path`: it exists and, if tagged read-write, a token is held. */
  canGet(path: string): boolean {
    const element = this.byPath.get(normalize(path));
    if (element === undefined) return false;
    return !validation(element).startsWith("read-write") || this.authenticated;
  }

  /** Whether this connection may set `path`: an actuator, and a token is held if it is tagged. */
  canSet(path: string): boolean {
    const element = this.byPath.get(normalize(path));
    if (element === undefined || element.node.type !== "actuator") return false;
    return validation(element) === "" || this.authenticated;
  }

  /** The paths of every node the selector matches, in tree order. Throws SyntaxError. */
  findPathByCSS(cssSelector: string): string[] {
    const selectors = parseSelectorList(cssSelector);
    return this.elements.filter((element) => selectors.some((selector) => this.matches(element, selector))).map((e) => e.path);
  }

  /** Whether any node matches the selector. */
  pathExistsByCSS(cssSelector: string): boolean {
    const selectors = parseSelectorList(cssSelector);
    return this.elements.some((element) => selectors.some((selector) => this.matches(element, selector)));
  }

  /** The draft's example spells it so. */
  pathExists(cssSelector: string): boolean {
    return this.pathExistsByCSS(cssSelector);
  }

  // --- matching ------------------------------------------------------------------------------

  private matches(element: Element, selector: Complex): boolean {
    return this.matchFrom(element, selector, selector.compounds.length - 1);
  }

  private matchFrom(element: Element, selector: Complex, at: number): boolean {
    const compound = selector.compounds[at];
    if (compound === undefined || !this.matchCompound(element, compound)) return false;
    if (at === 0) return true;
    switch (selector.combinators[at - 1]) {
      case ">":
        return element.parent !== undefined && this.matchFrom(element.parent, selector, at - 1);
      case "+": {
        const previous = element.siblings[element.index - 1];
        return previous !== undefined && this.matchFrom(previous, selector, at - 1);
      }
      case "~":
        return element.siblings.slice(0, element.index).some((sibling) => this.matchFrom(sibling, selector, at - 1));
      default:
        for (let ancestor = element.parent; ancestor !== undefined; ancestor = ancestor.parent) {
          if (this.matchFrom(ancestor, selector, at - 1)) return true;
        }
        return false;
    }
  }

  private matchCompound(element: Element, compound: Compound): boolean {
    if (compound.name !== undefined && compound.name !== element.name.toLowerCase()) return false;
    for (const attribute of compound.attributes) {
      if (!matchAttribute(attributeOf(element, attribute.name), attribute)) return false;
    }
    for (const pseudo of compound.pseudos) {
      if (!this.matchPseudo(element, pseudo)) return false;
    }
    return true;
  }

  private matchPseudo(element: Element, pseudo: Pseudo): boolean {
    switch (pseudo.name) {
      case "root": return element.parent === undefined;
      case "first-child": return element.index === 0;
      case "last-child": return element.index === element.siblings.length - 1;
      case "only-child": return element.siblings.length === 1;
      case "empty":
      case "leaf": return element.children.length === 0 && element.node.type !== "branch";
      case "branch": return element.node.type === "branch" || element.children.length > 0;
      case "readable": return this.canGet(element.path);
      case "writable": return this.canSet(element.path);
      case "not": return !(pseudo.argument ?? []).some((selector) => this.matches(element, selector));
      default: return false;
    }
  }
}

function normalize(path: string): string {
  return path.replace(/\//g, ".");
}

/** The nearest `validate` tag at or above the node; "" when untagged. */
function validation(element: Element): string {
  for (let at: Element | undefined = element; at !== undefined; at = at.parent) {
    if (typeof at.node.validate === "string") return at.node.validate;
  }
  return "";
}

function attributeOf(element: Element, name: string): string | undefined {
  if (name === "name") return element.name;
  if (name === "path") return element.path;
  const key = Object.keys(element.node).find((member) => member.toLowerCase() === name && member !== "children");
  if (key === undefined) return undefined;
  const value = element.node[key];
  if (Array.isArray(value)) return value.map(String).join(" ");
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return value === undefined ? undefined : String(value);
}

function matchAttribute(actual: string | undefined, attribute: AttributeSelector): boolean {
  if (actual === undefined) return false;
  if (attribute.operator === undefined) return true;
  const fold = (text: string): string => (attribute.caseInsensitive ? text.toLowerCase() : text);
  const value = fold(actual);
  const expected = fold(attribute.value ?? "");
  switch (attribute.operator) {
    case "=": return value === expected;
    case "~=": return value.split(/\s+/).includes(expected);
    case "^=": return expected !== "" && value.startsWith(expected);
    case "$=": return expected !== "" && value.endsWith(expected);
    case "*=": return expected !== "" && value.includes(expected);
    case "|=": return value === expected || value.startsWith(`${expected}-`);
    default: return false;
  }
}

// --- selector parsing --------------------------------------------------------------------------

interface AttributeSelector {
  name: string;
  operator: "=" | "~=" | "^=" | "$=" | "*=" | "|=" | undefined;
  value: string | undefined;
  caseInsensitive: boolean;
}

interface Pseudo {
  name: string;
  argument: Complex[] | undefined;
}

interface Compound {
  /** Lower-cased node name; undefined for `*` or none. */
  name: string | undefined;
  attributes: AttributeSelector[];
  pseudos: Pseudo[];
}

interface Complex {
  compounds: Compound[];
  /** combinators[i] joins compounds[i] and compounds[i + 1]: " ", ">", "+" or "~". */
  combinators: string[];
}

const PSEUDOS = new Set(["root", "first-child", "last-child", "only-child", "empty", "leaf", "branch", "readable", "writable", "not"]);
const IDENT = /[A-Za-z0-9_-]/;

class SelectorParser {
  private at = 0;
  constructor(private readonly text: string) {}

  parseList(closing?: string): Complex[] {
    const list: Complex[] = [this.parseComplex()];
    this.skipSpace();
    while (this.peek() === ",") {
      this.at += 1;
      list.push(this.parseComplex());
      this.skipSpace();
    }
    if (closing !== undefined) {
      if (this.peek() !== closing) this.fail(`expected "${closing}"`);
      this.at += 1;
    } else if (this.at < this.text.length) {
      this.fail(`unexpected "${this.peek()}"`);
    }
    return list;
  }

  private parseComplex(): Complex {
    this.skipSpace();
    const compounds: Compound[] = [this.parseCompound()];
    const combinators: string[] = [];
    for (;;) {
      const hadSpace = this.skipSpace();
      const next = this.peek();
      if (next === undefined || next === "," || next === ")") break;
      if (next === ">" || next === "+" || next === "~") {
        this.at += 1;
        this.skipSpace();
        combinators.push(next);
      } else if (hadSpace) {
        combinators.push(" ");
      } else {
        this.fail(`unexpected "${next}"`);
      }
      compounds.push(this.parseCompound());
    }
    return { compounds, combinators };
  }

  private parseCompound(): Compound {
    const compound: Compound = { name: undefined, attributes: [], pseudos: [] };
    const start = this.at;
    if (this.peek() === "*") {
      this.at += 1;
    } else if (this.isIdent(this.peek())) {
      compound.name = this.ident().toLowerCase();
    }
    for (;;) {
      const next = this.peek();
      if (next === "[") compound.attributes.push(this.parseAttribute());
      else if (next === ":") compound.pseudos.push(this.parsePseudo());
      else if (next === "#" || next === ".") this.fail(`"${next}" selectors are not supported (VSS nodes have no ids or classes)`);
      else break;
    }
    if (this.at === start) this.fail("expected a selector");
    return compound;
  }

  private parseAttribute(): AttributeSelector {
    this.at += 1; // [
    this.skipSpace();
    const name = this.ident().toLowerCase();
    this.skipSpace();
    let operator: AttributeSelector["operator"];
    let value: string | undefined;
    let caseInsensitive = false;
    const rest = this.text.slice(this.at);
    const match = /^([~^$*|]?=)/.exec(rest);
    if (match?.[1] !== undefined) {
      operator = match[1] as AttributeSelector["operator"];
      this.at += match[1].length;
      this.skipSpace();
      value = this.value();
      this.skipSpace();
      if (/^[iI](?![A-Za-z0-9_-])/.test(this.text.slice(this.at))) {
        caseInsensitive = true;
        this.at += 1;
        this.skipSpace();
      }
    }
    if (this.peek() !== "]") this.fail('expected "]"');
    this.at += 1;
    return { name, operator, value, caseInsensitive };
  }

  private parsePseudo(): Pseudo {
    this.at += 1; // :
    if (this.peek() === ":") this.fail("pseudo-elements are not supported");
    const name = this.ident().toLowerCase();
    if (!PSEUDOS.has(name)) this.fail(`unsupported pseudo-class ":${name}"`);
    if (name !== "not") return { name, argument: undefined };
    if (this.peek() !== "(") this.fail('expected "(" after :not');
    this.at += 1;
    return { name, argument: this.parseList(")") };
  }

  private value(): string {
    const quote = this.peek();
    if (quote === '"' || quote === "'") {
      const end = this.text.indexOf(quote, this.at + 1);
      if (end < 0) this.fail("unterminated string");
      const text = this.text.slice(this.at + 1, end);
      this.at = end + 1;
      return text;
    }
    // Unquoted: an identifier-like run, also allowing "." "/" and "+" (paths, units, numbers).
    const start = this.at;
    while (this.at < this.text.length && /[A-Za-z0-9_.\/+-]/.test(this.text[this.at] ?? "")) this.at += 1;
    if (this.at === start) this.fail("expected a value");
    return this.text.slice(start, this.at);
  }

  private ident(): string {
    const start = this.at;
    while (this.isIdent(this.peek())) this.at += 1;
    if (this.at === start) this.fail("expected a name");
    return this.text.slice(start, this.at);
  }

  private isIdent(char: string | undefined): boolean {
    return char !== undefined && IDENT.test(char);
  }

  private peek(): string | undefined {
    return this.text[this.at];
  }

  private skipSpace(): boolean {
    const start = this.at;
    while (/\s/.test(this.peek() ?? "")) this.at += 1;
    return this.at > start;
  }

  private fail(message: string): never {
    throw new SyntaxError(`CSS selector ${JSON.stringify(this.text)} at ${this.at}: ${message}`);
  }
}

function parseSelectorList(text: string): Complex[] {
  if (text.trim() === "") throw new SyntaxError("empty CSS selector");
  return new SelectorParser(text).parseList();
}

// ---------------------------------------------------------------------------------------------
// Values: JS <-> wire, driven by the metadata

const INT_TYPES = new Set(["int8", "uint8", "int16", "uint16", "int32", "uint32"]);

function limit(text: unknown): number | undefined {
  return typeof text === "string" && text !== "" && Number.isFinite(Number(text)) ? Number(text) : undefined;
}

function bigLimit(text: unknown): bigint | undefined {
  return typeof text === "string" && /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined;
}

/** Struct and unknown datatypes: JS values in, wire strings out; the wire form back as is. */
const passthrough: codec.Codec<unknown> = {
  vssType: "struct",
  encode: (value) => toWire(value),
  decode: (wire) => wire,
};

function toWire(value: unknown): unknown {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new RangeError(`${value} has no VISS representation`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, toWire(member)]));
  }
  throw new TypeError(`${String(value)} has no VISS representation`);
}

/** The codec for a node: its datatype with min, max and allowed; arrays apply them per element. */
export function codecForMetadata(node: VssNode): codec.Codec<any> {
  const datatype = node.datatype ?? "";
  const isArray = datatype.endsWith("[]");
  const base = isArray ? datatype.slice(0, -2) : datatype;
  let scalar: codec.Codec<any>;
  if (base === "boolean") scalar = codec.boolean();
  else if (base === "string") scalar = codec.string();
  else if (INT_TYPES.has(base)) scalar = codec.int(base as codec.IntType, limit(node.min), limit(node.max));
  else if (base === "int64" || base === "uint64") scalar = codec.bigint(base, bigLimit(node.min), bigLimit(node.max));
  else if (base === "float" || base === "double") scalar = codec.float(base, limit(node.min), limit(node.max));
  else return passthrough;
  if (Array.isArray(node.allowed) && node.allowed.length > 0) {
    const plain = scalar;
    scalar = codec.oneOf(plain, node.allowed.map((wire) => plain.decode(wire) as string | number | bigint));
  }
  return isArray ? codec.array(scalar) : scalar;
}

// ---------------------------------------------------------------------------------------------
// The library object

export type W3CEvent = "connect" | "disconnect" | "reconnecting" | "reconnect" | "error";

export interface W3COptions extends Omit<ClientOptions, "url"> {
  /** Where connect() without arguments goes; default wss://localhost:6443. */
  url?: string;
  /** The tree roots getVSS() loads; default ["Vehicle"]. */
  roots?: string[];
}

/** A value of a subscription: the converted value, the node's path and the capture time. */
export type W3CValueListener = (value: unknown, path: string, ts: string) => void;

export interface W3CSubscribeOptions {
  /** An event every `interval` ms (VISS timebased filter). */
  interval?: number;
  /** An event on every change (VISS change filter "ne" 0); the default for leaves. */
  onchange?: boolean;
  /**
   * Events while the value is above `above` and/or below `below` (VISS range filter). With
   * both: inside the band when above < below, outside it (either side) when above > below.
   */
  above?: number;
  below?: number;
  /** Any VISS filter, instead of the shorthands above. */
  filter?: Filter;
  onValue?: W3CValueListener;
  /** The server ended the subscription (a VISS error event), or it could not be restored. */
  onError?: (error: VissError) => void;
  signal?: AbortSignal;
}

export interface W3CSubscription {
  readonly path: string;
  /** The server's current id (it changes when the subscription is restored after a reconnect). */
  readonly id: string;
  readonly filter: Filter;
  unsubscribe(): Promise<void>;
}

const DEFAULT_URL = "wss://localhost:6443";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function items(data: unknown): Record<string, unknown>[] {
  return (Array.isArray(data) ? data : [data]).filter(isObject);
}

/** The newest data point of an item (`dp` is one point or a series). */
function latest(item: Record<string, unknown>): Record<string, unknown> | undefined {
  const dp = item["dp"];
  const points = (Array.isArray(dp) ? dp : [dp]).filter(isObject);
  return points[points.length - 1];
}

function pointsOf(item: Record<string, unknown>): Record<string, unknown>[] {
  const dp = item["dp"];
  return (Array.isArray(dp) ? dp : [dp]).filter(isObject);
}

/** The `exp` claim of a JWT as seconds from now; undefined for anything else. */
function tokenTtl(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const claims: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
    const exp = isObject(claims) ? claims["exp"] : undefined;
    return typeof exp === "number" ? Math.round(exp - Date.now() / 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** "host" + port, or a whole URL; IPv6 literals get their brackets. */
function targetUrl(host: string | undefined, port: number | undefined, fallback: string): string {
  const base = new URL(fallback);
  if (host !== undefined && host.includes("://")) {
    const url = new URL(host);
    if (port !== undefined) url.port = String(port);
    return url.href.replace(/\/$/, "");
  }
  if (host !== undefined) base.hostname = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  if (port !== undefined) base.port = String(port);
  return base.href.replace(/\/$/, "");
}

export class W3CLibrary {
  private client: VissClient | undefined;
  private currentUrl: string | undefined;
  private token: string | undefined;
  private vss: Promise<VSS> | undefined;
  private readonly metadata = new Map<string, Promise<VssTree>>();
  private readonly subscriptions = new Set<W3CSubscription>();
  private readonly listeners = new Map<W3CEvent, Set<(...args: any[]) => void>>();
  private detach: (() => void)[] = [];

  onconnect: ((url: string) => void) | null = null;
  ondisconnect: ((code: number, reason: string) => void) | null = null;
  onreconnecting: ((attempt: number, delayMs: number) => void) | null = null;
  onreconnect: (() => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;

  constructor(private readonly options: W3COptions = {}) {
    this.token = options.authorization;
  }

  /** The draft's `W3CLibrary.connect(url, ...)`: a library object, connected. */
  static async connect(url?: string, options: W3COptions = {}): Promise<W3CLibrary> {
    const library = new W3CLibrary(options);
    await library.connect(url);
    return library;
  }

  /**
   * Opens the connection: `connect()` (the default URL), `connect("vehicle.local", 6443)`
   * (wss:// unless the default says otherwise) or `connect("wss://host:port")`.
   */
  async connect(host?: string, port?: number): Promise<void> {
    if (this.client !== undefined) await this.disconnect();
    const url = targetUrl(host, port, this.options.url ?? DEFAULT_URL);
    const client = await VissClient.connect({ ...this.options, url, authorization: this.token });
    this.client = client;
    this.currentUrl = url;
    this.detach = [
      client.on("close", (code: number, reason: string) => this.emit("disconnect", code, reason)),
      client.on("reconnecting", (attempt: number, delay: number) => this.emit("reconnecting", attempt, delay)),
      client.on("reconnected", () => this.emit("reconnect")),
      client.on("error", (error: unknown) => this.emit("error", error)),
    ];
    this.emit("connect", url);
  }

  /** Closes the connection cleanly; subscriptions end. */
  async disconnect(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    this.client = undefined;
    this.subscriptions.clear();
    // The client's own "close" would report this too: one "disconnect" is enough.
    for (const off of this.detach) off();
    this.detach = [];
    await client.close();
    this.emit("disconnect", 1000, "disconnected");
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  get url(): string | undefined {
    return this.currentUrl;
  }

  /**
   * Adds a token (or, with undefined, removes it) for every later request. The VSS is
   * fetched anew afterwards, as the draft asks. Resolves to the token's remaining lifetime
   * in seconds when it is a JWT with an `exp` claim.
   */
  async authenticate(token: string | undefined): Promise<number | undefined> {
    this.token = token;
    this.client?.authorize(token);
    this.vss = undefined;
    this.metadata.clear();
    return token === undefined ? undefined : tokenTtl(token);
  }

  /** The VSS of the configured roots, from the server's metadata (cached until authenticate()). */
  getVSS(opts: { refresh?: boolean } & CallOptions = {}): Promise<VSS> {
    if (opts.refresh === true) {
      this.vss = undefined;
      this.metadata.clear();
    }
    const roots = this.options.roots ?? ["Vehicle"];
    const loading = this.vss ?? Promise.all(roots.map((root) => this.rootMetadata(root, opts)))
      .then((trees) => new VSS(Object.assign({}, ...trees) as VssTree, this.token !== undefined));
    this.vss = loading;
    // A failed load is not cached.
    loading.catch(() => {
      if (this.vss === loading) this.vss = undefined;
    });
    return loading;
  }

  /** One value (a leaf), or path -> value for a branch. Numbers, booleans, bigints per datatype. */
  async get(path: string, opts?: CallOptions): Promise<unknown> {
    const client = this.connection();
    const answer: unknown = await client.get(path, undefined, opts);
    const found = items(isObject(answer) ? answer["data"] : undefined);
    const values = await Promise.all(found.map(async (item) => {
      const itemPath = String(item["path"] ?? path);
      const point = latest(item);
      return [itemPath, point === undefined ? undefined : await this.decode(itemPath, point["value"])] as const;
    }));
    const only = values[0];
    if (values.length === 1 && only !== undefined && only[0] === normalize(path)) return only[1];
    return Object.fromEntries(values);
  }

  /** Sets an actuator; the value is checked against the node's metadata before sending. */
  async set(path: string, value: unknown, opts?: CallOptions): Promise<void> {
    const client = this.connection();
    const node = await this.nodeOf(path, opts);
    if (node !== undefined && node.type !== undefined && node.type !== "actuator") {
      throw new TypeError(`${path} is ${node.type === "attribute" ? "an" : "a"} ${node.type}: only actuators can be set`);
    }
    const wire = node === undefined ? toWire(value) : codecForMetadata(node).encode(value);
    await client.set(path, wire, opts);
  }

  /** Subscribes; `options` picks the trigger and takes the callbacks. Survives reconnects. */
  async subscribe(path: string, options: W3CSubscribeOptions | W3CValueListener = {}): Promise<W3CSubscription> {
    const client = this.connection();
    const settings = typeof options === "function" ? { onValue: options } : options;
    const node = await this.nodeOf(path, { signal: settings.signal });
    const filter = settings.filter ?? triggerOf(settings, node);
    const onValue = settings.onValue;
    // Conversion is asynchronous only the first time (metadata); keep events in order.
    let queue = Promise.resolve();
    const onEvent = (data: unknown): void => {
      for (const item of items(data)) {
        const itemPath = String(item["path"] ?? path);
        for (const point of pointsOf(item)) {
          queue = queue.then(async () => {
            const value = await this.decode(itemPath, point["value"]);
            onValue?.(value, itemPath, String(point["ts"] ?? ""));
          }).catch((error: unknown) => this.emit("error", error));
        }
      }
    };
    const inner: Subscription = await client.subscribe(path, filter, onEvent, (error) => {
      this.subscriptions.delete(subscription);
      settings.onError?.(error);
    }, { signal: settings.signal });
    const subscription: W3CSubscription = {
      path,
      filter,
      get id() {
        return inner.id;
      },
      unsubscribe: async () => {
        this.subscriptions.delete(subscription);
        await inner.unsubscribe();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Ends a subscription, given the object subscribe() returned or its id. */
  async unsubscribe(subscription: W3CSubscription | string): Promise<void> {
    const found = typeof subscription === "string"
      ? [...this.subscriptions].find((candidate) => candidate.id === subscription)
      : subscription;
    if (found === undefined) {
      throw new VissError({ number: "404", reason: "unavailable_data", description: `Unknown subscription Id ${String(subscription)}` }, "unsubscribe");
    }
    await found.unsubscribe();
  }

  async unsubscribeAll(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.unsubscribe()));
  }

  /** Adds a lifecycle listener; returns the function that removes it. */
  on(event: "connect", listener: (url: string) => void): () => void;
  on(event: "disconnect", listener: (code: number, reason: string) => void): () => void;
  on(event: "reconnecting", listener: (attempt: number, delayMs: number) => void): () => void;
  on(event: "reconnect", listener: () => void): () => void;
  on(event: "error", listener: (error: unknown) => void): () => void;
  on(event: W3CEvent, listener: (...args: any[]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  off(event: W3CEvent, listener: (...args: any[]) => void): void {
    this.listeners.get(event)?.delete(listener);
  }

  // --- internals -----------------------------------------------------------------------------

  private emit(event: W3CEvent, ...args: unknown[]): void {
    const property = (this as unknown as Record<string, unknown>)[`on${event}`];
    const handlers = [...(this.listeners.get(event) ?? [])];
    if (typeof property === "function") handlers.push(property as (...args: unknown[]) => void);
    for (const handler of handlers) {
      try {
        handler.apply(this, args);
      } catch (error) {
        if (event !== "error") this.emit("error", error);
      }
    }
  }

  private connection(): VissClient {
    if (this.client === undefined) throw new Error("not connected: call connect() first");
    return this.client;
  }

  private rootMetadata(root: string, opts: CallOptions = {}): Promise<VssTree> {
    let loading = this.metadata.get(root);
    if (loading === undefined) {
      loading = this.connection().get(root, Filter.metadata(), opts).then((answer: unknown) => {
        const metadata = isObject(answer) ? answer["metadata"] : undefined;
        if (!isObject(metadata)) throw new VissError({ number: "404", reason: "unavailable_data", description: `no metadata for ${root}` }, "get");
        return metadata as VssTree;
      });
      const pending = loading;
      pending.catch(() => {
        if (this.metadata.get(root) === pending) this.metadata.delete(root);
      });
      this.metadata.set(root, pending);
    }
    return loading;
  }

  /** The node's metadata, or undefined when the server does not describe it. */
  private async nodeOf(path: string, opts: CallOptions = {}): Promise<VssNode | undefined> {
    const [root, ...rest] = normalize(path).split(".");
    if (root === undefined || root === "") return undefined;
    let tree: VssTree;
    try {
      tree = await this.rootMetadata(root, opts);
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      return undefined;
    }
    let node: VssNode | undefined = tree[root];
    for (const name of rest) {
      node = node === undefined ? undefined : childrenOf(node).find(([child]) => child === name)?.[1];
    }
    return node;
  }

  private async decode(path: string, wire: unknown): Promise<unknown> {
    if (typeof wire === "string" && wire.startsWith("viss-inline:")) return undefined;
    const node = await this.nodeOf(path);
    return node === undefined ? wire : codecForMetadata(node).decode(wire);
  }
}

function triggerOf(options: W3CSubscribeOptions, node: VssNode | undefined): Filter {
  if (options.interval !== undefined) return Filter.timebased(options.interval);
  const { above, below } = options;
  if (above !== undefined && below !== undefined) {
    const inside = above < below;
    return Filter.range([{ logicOp: "gt", boundary: above }, { logicOp: "lt", boundary: below }], inside ? "AND" : "OR");
  }
  if (above !== undefined) return Filter.range([{ logicOp: "gt", boundary: above }]);
  if (below !== undefined) return Filter.range([{ logicOp: "lt", boundary: below }]);
  if (options.onchange === true) return Filter.change("ne", 0);
  // Leaves: every change; branches (and what the metadata does not describe): once a second.
  return node !== undefined && node.type !== "branch" ? Filter.change("ne", 0) : Filter.timebased(1000);
}
