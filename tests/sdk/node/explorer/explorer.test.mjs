// The signal explorer (/explorer/) in headless Chromium against a running demo-car.
//
//   VISS_HTTP_URL=https://localhost:PORT VISS_SCREENSHOT_DIR=/tmp/shots \
//     node --test tests/sdk/node/explorer/
//
// Environment:
//   VISS_HTTP_URL        the demo-car's HTTPS transport (required); the page is at <it>/explorer/
//   VISS_SCREENSHOT_DIR  where the PNG screenshots go (optional; none are taken without it)
//   VISS_EXPLORER_URL    the page's address, when it is served elsewhere (optional)
//   CHROMIUM             the browser binary (default /usr/bin/chromium)
//
// The demo-car runs with --simulate so that Vehicle.Speed moves. Every wait is bounded.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";

const HTTP_URL = process.env.VISS_HTTP_URL?.replace(/\/+$/, "");
const EXPLORER_URL = process.env.VISS_EXPLORER_URL ?? (HTTP_URL === undefined ? undefined : `${HTTP_URL}/explorer/`);
const SCREENSHOT_DIR = process.env.VISS_SCREENSHOT_DIR;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const SPEED = "Vehicle.Speed";
const SEAT = "Vehicle.Cabin.Seat.Row1.DriverSide.Position"; // actuator, uint16, 0..500 mm
const STRUCT = "Vehicle.Navigation.Destination"; // actuator, Types.Waypoint (the server checks members)

const WAIT = 10_000; // one UI step
const LOAD = 20_000; // browser start, page load, metadata

/** @type {import("playwright-core").Browser} */
let browser;
/** @type {import("playwright-core").Page} */
let page;
/** Text frames the page sent and received over its WebSocket, parsed. */
const sent = [];
const received = [];
/** Uncaught exceptions in the page. */
const pageErrors = [];

const row = (path) => page.locator(`#tree button.row[data-path="${path}"]`);

async function screenshot(name) {
  if (SCREENSHOT_DIR === undefined) return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `explorer-${name}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: WAIT });
  console.log(`screenshot: ${file}`);
}

const setsSent = (path) => sent.filter((message) => message.action === "set" && message.path === path).length;

/** Selects a node through the search box, so it does not matter how deep it is. */
async function selectBySearch(path) {
  await page.fill("#search", path, { timeout: WAIT });
  await row(path).click({ timeout: WAIT });
  await page.waitForSelector(`#node[data-path="${path}"]`, { timeout: WAIT });
  await page.fill("#search", "", { timeout: WAIT });
}

/** Waits until #value shows a value (data-state="ok") other than `previous`; returns it. */
async function nextValue(previous, timeout = WAIT) {
  const handle = await page.waitForFunction((old) => {
    const value = document.querySelector("#value");
    return value?.dataset.state === "ok" && value.textContent !== old ? value.textContent : false;
  }, previous, { timeout, polling: 50 });
  return handle.jsonValue();
}

describe("signal explorer", { timeout: 120_000 }, () => {
  before(async () => {
    assert.ok(EXPLORER_URL, "set VISS_HTTP_URL to the https:// address of a running demo-car (--simulate)");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: LOAD,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--ignore-certificate-errors",
      ],
    });
    // launch() gives every context a fresh, temporary user-data dir.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(WAIT);
    context.setDefaultNavigationTimeout(LOAD);
    page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error));
    page.on("console", (message) => {
      if (message.type() === "error") console.log(`page console error: ${message.text()}`);
    });
    const record = (list) => (frame) => {
      if (typeof frame.payload !== "string") return;
      try {
        list.push(JSON.parse(frame.payload));
      } catch {
        // not JSON: not a VISS message this test looks for
      }
    };
    page.on("websocket", (socket) => {
      socket.on("framesent", record(sent));
      socket.on("framereceived", record(received));
    });
  });

  after(async () => {
    await browser?.close();
  });

  it("loads and lists the demo car's tree", async () => {
    const response = await page.goto(EXPLORER_URL, { timeout: LOAD });
    assert.equal(response?.status(), 200, `GET ${EXPLORER_URL}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: LOAD });
    assert.equal(await page.getAttribute("#status", "data-state"), "live", "connected over the WebSocket");
    // The metadata get on the root, over the WebSocket.
    assert.ok(sent.some((message) => message.action === "get" && message.path === "Vehicle"
      && message.filter?.variant === "metadata"), "a metadata get on Vehicle was sent");
    // The root is open: its children are listed; deeper branches open on click.
    await row(SPEED).waitFor({ timeout: WAIT });
    assert.equal(await row(SPEED).getAttribute("data-kind"), "sensor");
    assert.equal(await row("Vehicle.Cabin.Door").count(), 0, "Cabin starts collapsed");
    await row("Vehicle.Cabin").click();
    await row("Vehicle.Cabin.Door").waitFor({ timeout: WAIT });
    assert.equal(await row("Vehicle.Cabin").getAttribute("aria-expanded"), "true");
    assert.equal(await row("Vehicle.Cabin.Door").getAttribute("data-kind"), "branch");
    assert.match(await page.textContent("#node-path") ?? "", /^Vehicle\.Cabin$/);
    await screenshot("loaded");
    // Collapsing hides the children again.
    await row("Vehicle.Cabin").click();
    await row("Vehicle.Cabin.Door").waitFor({ state: "detached", timeout: WAIT });
  });

  it("filters the tree by path", async () => {
    await page.fill("#search", "seat row1 driverside position");
    await row(SEAT).waitFor({ timeout: WAIT });
    assert.equal(await row(SPEED).count(), 0, "non-matching leaves are hidden");
    assert.equal(await row(SEAT).getAttribute("data-datatype"), "uint16");
    await page.fill("#search", "");
    await row(SPEED).waitFor({ timeout: WAIT });
  });

  it("shows a sensor's metadata and live value", async () => {
    await row(SPEED).click();
    await page.waitForSelector(`#node[data-path="${SPEED}"]`);
    assert.equal(await page.textContent('#metadata tr[data-key="datatype"] td'), "float");
    assert.equal(await page.textContent('#metadata tr[data-key="unit"] td'), "km/h");
    assert.equal(await page.textContent('#metadata tr[data-key="max"] td'), "200");
    await page.waitForSelector('#live[data-live="on"]', { timeout: WAIT });
    assert.equal(await page.isHidden("#set-form"), true, "a sensor has no set input");
    assert.ok(sent.some((message) => message.action === "subscribe" && message.path === SPEED), "subscribed to Vehicle.Speed");
    // Two different values within a bounded time: the simulator moves the speed.
    const first = await nextValue(undefined);
    const second = await nextValue(first);
    assert.notEqual(first, second);
    for (const value of [first, second]) {
      assert.ok(Number.isFinite(Number(value)) && Number(value) >= 0 && Number(value) <= 200, `speed ${value} in 0..200`);
    }
    await screenshot("live");
  });

  it("sets an actuator and shows the new value", async () => {
    const request = [...sent].reverse().find((message) => message.action === "subscribe" && message.path === SPEED);
    const answer = received.find((message) => message.action === "subscribe" && message.requestId === request?.requestId);
    const speedId = answer?.subscriptionId;
    assert.ok(speedId, "the Speed subscription has a server id");
    await selectBySearch(SEAT);
    // Selecting another leaf ends the previous subscription.
    await waitFor(() => sent.some((message) => message.action === "unsubscribe" && message.subscriptionId === speedId),
      `an unsubscribe of the Speed subscription ${speedId}`);
    // With the search cleared, the whole tree is back and the picked row stays open and selected.
    await row(SPEED).waitFor({ timeout: WAIT });
    assert.equal(await row(SEAT).getAttribute("aria-selected"), "true");
    await page.waitForSelector('#live[data-live="on"]', { timeout: WAIT });
    assert.ok(sent.some((message) => message.action === "subscribe" && message.path === SEAT), "subscribed to the seat position");
    assert.match(await page.textContent("#set-hint") ?? "", /uint16, 0 … 500 mm/);
    const current = await nextValue(undefined);
    const target = String((Number(current) + 137) % 500);
    await page.fill("#set-input", target);
    await page.click("#set-button");
    await page.waitForSelector('#set-status[data-state="accepted"]', { timeout: WAIT });
    assert.equal(await page.isHidden("#error"), true, "no error after a good set");
    assert.ok(sent.some((message) => message.action === "set" && message.path === SEAT && message.value === target),
      `a set of "${target}" was sent`);
    // The vehicle reports the new position; the live value follows.
    await page.waitForFunction((want) => document.querySelector("#value")?.textContent === want, target, { timeout: WAIT, polling: 50 });
    await screenshot("set");
    // The server agrees (read over HTTPS in a page of its own).
    if (HTTP_URL !== undefined) {
      const check = await page.context().newPage();
      try {
        await check.goto(`${HTTP_URL}/${SEAT.replaceAll(".", "/")}`, { timeout: LOAD });
        const answer = JSON.parse(await check.textContent("body", { timeout: WAIT }) ?? "{}");
        assert.equal(answer.data?.dp?.value, target);
      } finally {
        await check.close();
      }
    }
  });

  it("refuses a bad value with a plain error and shows the server's errors", async () => {
    const before = setsSent(SEAT);
    const shown = await page.textContent("#value");
    // Out of range: the codec's check, nothing sent.
    await page.fill("#set-input", "9999");
    await page.click("#set-button");
    await page.waitForSelector('#error[data-kind="check"]', { state: "visible", timeout: WAIT });
    assert.match(await page.textContent("#error") ?? "", /9999 is above the maximum 500/);
    assert.equal(await page.getAttribute("#set-input", "aria-invalid"), "true");
    await screenshot("error");
    // Not a number at all.
    await page.fill("#set-input", "abc");
    await page.click("#set-button");
    await page.waitForFunction(() => /"abc" is not a number/.test(document.querySelector("#error")?.textContent ?? ""), null, { timeout: WAIT });
    assert.equal(await page.getAttribute("#error", "data-kind"), "check");
    // A bounded pause: a request, had one been sent, would be on the wire by now.
    await page.waitForTimeout(300);
    assert.equal(setsSent(SEAT), before, "no set was sent for a bad value");
    assert.equal(await page.textContent("#value"), shown, "the shown value did not change");

    // A value only the server can judge (a struct's members): the server's 400 is shown.
    await selectBySearch(STRUCT);
    assert.equal(await page.isHidden("#error"), true, "selecting clears the error");
    await page.fill("#set-input", '{"NoSuchMember": 1}');
    await page.click("#set-button");
    await page.waitForSelector('#error[data-kind="viss"]', { state: "visible", timeout: WAIT });
    assert.equal(await page.getAttribute("#error", "data-number"), "400");
    assert.equal(await page.getAttribute("#error", "data-reason"), "invalid_data");
    assert.match(await page.textContent("#error") ?? "", /VISS error 400 invalid_data/);
    assert.ok(sent.some((message) => message.action === "set" && message.path === STRUCT
      && message.value?.NoSuchMember === "1"), "the struct went out with its scalars as strings");
    await screenshot("error-server");
  });

  it("falls back to HTTPS without live values when there is no WebSocket", async (t) => {
    // Same origin only: the VISS HTTPS transport sends no CORS headers.
    if (HTTP_URL === undefined || new URL(EXPLORER_URL).origin !== new URL(HTTP_URL).origin) {
      t.skip("the page is not served by the VISS server itself");
      return;
    }
    const url = new URL(EXPLORER_URL);
    url.searchParams.set("ws", "");
    url.hash = SPEED;
    await page.goto(url.href, { timeout: LOAD });
    await page.waitForSelector('body[data-ready="true"]', { timeout: LOAD });
    assert.equal(await page.getAttribute("#status", "data-state"), "https");
    await page.waitForSelector(`#node[data-path="${SPEED}"]`, { timeout: WAIT });
    const first = await nextValue(undefined);
    assert.ok(Number.isFinite(Number(first)));
    assert.equal(await page.getAttribute("#live", "data-live"), "off");
    await screenshot("https");
  });

  it("raised no uncaught exception in the page", () => {
    assert.deepEqual(pageErrors.map(String), []);
  });
});

/** Polls a Node-side condition (frames seen) for at most WAIT ms. */
async function waitFor(condition, what) {
  const deadline = Date.now() + WAIT;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${WAIT} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
