// A client's side of the access-control dialogues (CORE §8.3), as viss-auth and VISSR speak
// them: the access grant server (AGTS) turns the client's proof of identity into an access
// grant token (AGT), the access token server (ATS) turns an AGT and a purpose into an access
// token (AT) that the VISS server accepts.
//
//   const access = new AccessControl({ agts: "https://auth:7443/agts", ats: "https://auth:7443/ats",
//                                      context: "Owner+Third party+Cloud", vin });
//   const agt = await access.grant(proof);                     // long-term credential
//   const at = await access.accessToken(agt, "cabin-comfort"); // short-term credential
//
// A purpose that needs the owner's consent answers with a consent session first; the client
// asks again (`at-inquiry`) every `consentPollMs` until the owner decides or
// `consentTimeoutMs` passes. Every refusal rejects with a VissError: the HTTP status as its
// number, the VISS reason of that number, and the server's own words. In Node, `fetch`
// trusts the CAs in NODE_EXTRA_CA_CERTS beside the system's; in a browser, the browser's.
// The Rust SDK's `client::access` and the Python SDK's access.py have the same shape.

import { HTTP_REASONS, VissClientError, VissError } from "./client.js";

/** Where the AGTS and ATS are and what this client tells them. */
export interface AccessControlOptions {
  /** The AGTS's URL ("https://host:7443/agts"). */
  agts: string;
  /** The ATS's URL ("https://host:7443/ats"). */
  ats: string;
  /** The role triplet asked for: "user+app+device" ("Owner+Third party+Cloud"). */
  context: string;
  /** The vehicle the grant is for (an in-vehicle AGTS may do without). */
  vin?: string;
  /** Bounds each exchange with a server; default 10 000 ms. */
  timeoutMs?: number;
  /** How long an access token request waits for the owner's consent; default 60 000 ms. */
  consentTimeoutMs?: number;
  /** How often it asks whether the owner has decided; default 1 000 ms. */
  consentPollMs?: number;
}

type Answer = Record<string, unknown>;

export class AccessControl {
  private readonly timeoutMs: number;
  private readonly consentTimeoutMs: number;
  private readonly consentPollMs: number;

  constructor(readonly options: AccessControlOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.consentTimeoutMs = options.consentTimeoutMs ?? 60_000;
    this.consentPollMs = options.consentPollMs ?? 1_000;
  }

  /** An access grant token for this client, which proves who it is with `proof`. */
  async grant(proof: string): Promise<string> {
    const request: Answer = { context: this.options.context, proof };
    if (this.options.vin !== undefined) request["vin"] = this.options.vin;
    return member(await this.post(this.options.agts, request), "token");
  }

  /** An access token for `purpose`, given the access grant token `agt`; waits for the owner's
   * consent where the purpose needs it. */
  async accessToken(agt: string, purpose: string): Promise<string> {
    let answer = await this.post(this.options.ats, { action: "at-request", agToken: agt, purpose });
    const deadline = Date.now() + this.consentTimeoutMs;
    while (answer["aToken"] === undefined) {
      const sessionId = member(answer, "sessionId");
      if (Date.now() + this.consentPollMs > deadline) {
        throw refusal(408, `the owner has not decided on consent to "${purpose}" within ${this.consentTimeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.consentPollMs));
      answer = await this.post(this.options.ats, { action: "at-inquiry", sessionId });
    }
    return member(answer, "aToken");
  }

  /** One dialogue step: the answer's JSON object on success (200 or 201), a refusal otherwise. */
  private async post(url: string, request: Answer): Promise<Answer> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(request),
        // The proof and the grant must not follow a redirect to another server.
        redirect: "error",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (failure) {
      if (failure instanceof DOMException && failure.name === "TimeoutError") {
        throw new VissClientError("timeout", `${url}: no answer within ${this.timeoutMs} ms`, { cause: failure });
      }
      const cause = failure instanceof Error && failure.cause instanceof Error ? `: ${failure.cause.message}` : "";
      throw new VissClientError("connection_failed", `${url} unreachable${cause}`, { cause: failure });
    }
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    const body = typeof answer === "object" && answer !== null && !Array.isArray(answer) ? (answer as Answer) : undefined;
    const error = body?.["error"];
    const words = typeof error === "string" ? error : body?.["consent"] === "NO" ? "the owner refused consent" : undefined;
    if ((response.status === 200 || response.status === 201) && words === undefined && body !== undefined) return body;
    throw refusal(response.status < 400 ? 502 : response.status, words ?? `${url}: ${text.slice(0, 200)}`);
  }
}

/** A refusal as a VISS error: the status, the VISS reason of that number, the server's words. */
function refusal(status: number, description: string): VissError {
  const reason = HTTP_REASONS[status] ?? "service_unavailable";
  return new VissError({ number: String(status), reason, description }, "access");
}

function member(answer: Answer, name: string): string {
  const value = answer[name];
  if (typeof value === "string" && value !== "") return value;
  throw new VissClientError("protocol", `no ${name} in ${JSON.stringify(answer).slice(0, 200)}`);
}
