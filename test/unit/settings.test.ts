// The settings this file's variables set, parsed once at start: production turns the demo account off,
// IDSYNC_TRUST_PROXY becomes express's `trust proxy`, and a wrong value is one ConfigError naming the variable.
import { expect, test } from "vitest";
import { ConfigError, loadSettings } from "../../src/config/settings.ts";

test("the demo account is on outside production and off in it; asking for it in production is refused", () => {
  expect(loadSettings({}).demoAccount).toBe(true);
  expect(loadSettings({ NODE_ENV: "development" }).demoAccount).toBe(true);
  expect(loadSettings({ IDSYNC_DEMO: "false" }).demoAccount).toBe(false);
  expect(loadSettings({ NODE_ENV: "production" })).toMatchObject({ production: true, demoAccount: false });
  expect(loadSettings({ NODE_ENV: "production", IDSYNC_DEMO: "false" }).demoAccount).toBe(false);
  expect(() => loadSettings({ NODE_ENV: "production", IDSYNC_DEMO: "true" })).toThrow(/^IDSYNC_DEMO: the demo account is never created in production/);
  expect(() => loadSettings({ IDSYNC_DEMO: "no" })).toThrow(new ConfigError("IDSYNC_DEMO", 'expected true or false, got "no"'));
});

test("IDSYNC_TRUST_PROXY: off by default; true, a hop count, or addresses, subnets and express's range names", () => {
  expect(loadSettings({}).trustProxy).toBe(false);
  expect(loadSettings({ IDSYNC_TRUST_PROXY: "false" }).trustProxy).toBe(false);
  expect(loadSettings({ IDSYNC_TRUST_PROXY: "true" }).trustProxy).toBe(true);
  expect(loadSettings({ IDSYNC_TRUST_PROXY: "1" }).trustProxy).toBe(1);
  expect(loadSettings({ IDSYNC_TRUST_PROXY: "loopback, 10.0.0.0/8, 192.168.1.7, fd00::/8, 172.16.0.0/255.240.0.0" }).trustProxy)
    .toEqual(["loopback", "10.0.0.0/8", "192.168.1.7", "fd00::/8", "172.16.0.0/255.240.0.0"]);
  for (const wrong of ["yes", "10.0.0.0/33", "10.0.0/8", "loopback,proxy.internal", "::1/129", ","]) {
    expect(() => loadSettings({ IDSYNC_TRUST_PROXY: wrong }), wrong).toThrow(/^IDSYNC_TRUST_PROXY: expected true, false, a number of proxy hops/);
  }
  expect(() => loadSettings({ IDSYNC_TRUST_PROXY: "1000" })).toThrow(/^IDSYNC_TRUST_PROXY: expected a whole number from 0 to 100/);
});

test("IDSYNC_FULL_RECONCILE_SCHEDULE: every ten minutes by default; any cron expression node-cron accepts", () => {
  expect(loadSettings({}).fullReconcileSchedule).toBe("*/10 * * * *");
  expect(loadSettings({ IDSYNC_FULL_RECONCILE_SCHEDULE: "*/2 * * * *" }).fullReconcileSchedule).toBe("*/2 * * * *");
  expect(() => loadSettings({ IDSYNC_FULL_RECONCILE_SCHEDULE: "every 2 minutes" })).toThrow(/^IDSYNC_FULL_RECONCILE_SCHEDULE: expected a cron expression/);
});

test("IDSYNC_SCIM_TOKEN_CACHE_SECONDS: 5 by default, 0 to 60; beyond that one ConfigError naming it", () => {
  expect(loadSettings({}).scimTokenCacheSeconds).toBe(5);
  expect(loadSettings({ IDSYNC_SCIM_TOKEN_CACHE_SECONDS: "0" }).scimTokenCacheSeconds).toBe(0);
  for (const wrong of ["61", "-1", "soon"]) {
    expect(() => loadSettings({ IDSYNC_SCIM_TOKEN_CACHE_SECONDS: wrong }), wrong).toThrow(/^IDSYNC_SCIM_TOKEN_CACHE_SECONDS: expected a whole number from 0 to 60/);
  }
});
