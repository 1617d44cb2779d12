/**
 * The fluent-bit Lua filter (the handbook's create-log-file-path.lua) run with LuaJIT, the Lua
 * fluent-bit embeds: each record gets `log_file_path = <YYYY-MMDD>/<gateway>-access.log` for its
 * timestamp, in the container's time zone, and the output's Match_Regex takes exactly those tags.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LUA_FUNCTION, renderFluentBitConf, renderLuaScript, POD_LAYOUT } from "../components/ingress-gateway";
import { findBinary, requireBinaries, testGateway } from "./support/nginx";

interface Sample {
    timestamp: number;
    record: Record<string, string>;
}

/** Calls the rendered filter as fluent-bit does, once per sample; returns code, timestamp and record per call. */
function runFilter(
    script: string,
    samples: Sample[],
    timeZone: string,
): { code: number; timestamp: number; record: Record<string, string> }[] {
    const dir = mkdtempSync(join(tmpdir(), "lua-filter-"));
    try {
        writeFileSync(join(dir, "filter.lua"), script);
        const calls = samples
            .map(({ timestamp, record }) => {
                const fields = Object.entries(record)
                    .map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
                    .join(", ");
                return `emit(${LUA_FUNCTION}("kube.*", ${timestamp}, { ${fields} }))`;
            })
            .join("\n");
        const harness = [
            'dofile(arg[1] .. "/filter.lua")',
            "local function emit(code, timestamp, record)",
            "  local keys = {}",
            "  for k in pairs(record) do keys[#keys + 1] = k end",
            "  table.sort(keys)",
            "  local parts = {}",
            '  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(record[k]) end',
            '  print(code .. "\\t" .. string.format("%.3f", timestamp) .. "\\t" .. table.concat(parts, "\\t"))',
            "end",
            calls,
            "",
        ].join("\n");
        writeFileSync(join(dir, "harness.lua"), harness);
        const result = spawnSync(findBinary("luajit"), [join(dir, "harness.lua"), dir], {
            encoding: "utf8",
            env: { ...process.env, TZ: timeZone },
            timeout: 10_000,
        });
        assert.equal(result.status, 0, result.stderr);
        return result.stdout
            .trim()
            .split("\n")
            .map((line) => {
                const [code, timestamp, ...fields] = line.split("\t");
                return {
                    code: Number(code),
                    timestamp: Number(timestamp),
                    record: Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf("=")), f.slice(f.indexOf("=") + 1)])),
                };
            });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

describe("fluent-bit Lua filter (real LuaJIT)", () => {
    before(() => requireBinaries("luajit"));

    // 2024-12-31T15:30:00Z is 2025-01-01 00:30 in Tokyo: the day differs by time zone.
    const newYear = 1735659000;
    const samples: Sample[] = [
        { timestamp: newYear, record: { method: "GET", uri: "/", vhost: "pc.example.com" } },
        // fluent-bit passes sub-second timestamps as floats.
        { timestamp: 1700000000.123, record: { method: "POST", uri: "/api", vhost: "sp.example.com" } },
        { timestamp: 951782400, record: { status: "200" } }, // 2000-02-29T00:00:00Z, a leap day
    ];

    it("dates the path YYYY-MMDD/istio-ingressgateway-access.log in the gateway's time zone (Asia/Tokyo)", () => {
        const gateway = testGateway();
        assert.equal(gateway.accessLog.timeZone, "Asia/Tokyo");
        const out = runFilter(renderLuaScript(gateway), samples, gateway.accessLog.timeZone);
        assert.deepEqual(
            out.map((o) => o.record.log_file_path),
            [
                "2025-0101/istio-ingressgateway-access.log",
                "2023-1115/istio-ingressgateway-access.log",
                "2000-0229/istio-ingressgateway-access.log",
            ],
        );
    });

    it("follows the container's TZ: the same instant in UTC is still the previous day", () => {
        const out = runFilter(renderLuaScript(testGateway()), samples.slice(0, 1), "UTC");
        assert.equal(out[0].record.log_file_path, "2024-1231/istio-ingressgateway-access.log");
    });

    it("keeps the record and its timestamp, and returns 1 (record modified)", () => {
        const out = runFilter(renderLuaScript(testGateway()), samples, "Asia/Tokyo");
        out.forEach((o, i) => {
            assert.equal(o.code, 1);
            assert.equal(o.timestamp, Number(samples[i].timestamp.toFixed(3)));
            const { log_file_path: _path, ...rest } = o.record;
            assert.deepEqual(rest, samples[i].record);
        });
    });

    it("names the file after the gateway, and the output matches exactly the rewritten tags", () => {
        const gateway = testGateway((g) => (g.name = "sp-gateway"));
        const [out] = runFilter(renderLuaScript(gateway), samples.slice(0, 1), "Asia/Tokyo");
        assert.equal(out.record.log_file_path, "2025-0101/sp-gateway-access.log");
        const conf = renderFluentBitConf(POD_LAYOUT);
        const matchRegex = new RegExp(/Match_Regex\s+(\S+)/.exec(conf)?.[1] as string);
        assert.ok(matchRegex.test(out.record.log_file_path), "the file output takes the rewritten tag");
        assert.ok(!matchRegex.test("kube.*"), "and never the input's tag");
        assert.match(conf, /Rule\s+\$log_file_path \^\(\.\+\)\$ \$log_file_path false/);
        assert.match(conf, new RegExp(`Path\\s+${POD_LAYOUT.socketPath.replace(/\//g, "\\/")}`), "the input reads nginx's socket");
    });
});
