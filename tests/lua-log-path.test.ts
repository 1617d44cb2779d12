/**
 * Where each access-log record goes: the fluent-bit Lua filter run with LuaJIT (the Lua fluent-bit
 * embeds), and the rewrite_tag rules of the rendered fluent-bit.conf applied to its output. nginx's
 * records land in `<YYYY-MMDD>/<pod>-access.log` for the day nginx wrote in `time`; records that did
 * not parse land in `<YYYY-MMDD>/<pod>-unparsed.log` for the day they were received.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INPUT_TAG, LUA_FUNCTION, renderFluentBitConf, renderLuaScript } from "../components/ingress-gateway";
import { findBinary, requireBinaries, testGateway } from "./support/nginx";

interface Sample {
    timestamp: number;
    record: Record<string, string>;
}

/**
 * `${VAR}` expansion as fluent-bit does it when it loads a value (src/flb_env.c,
 * flb_env_var_translate): from each `${` to the first `}` after the scan position; when that `}`
 * comes first (a regex's `{4}`), expansion stops and the rest stays as written.
 */
function expandEnv(value: string, env: Record<string, string>): string {
    let out = "";
    let i = 0;
    for (;;) {
        const start = value.indexOf("${", i);
        const end = value.indexOf("}", i);
        if (start < 0 || end < 0 || end - (start + 2) <= 0) {
            break;
        }
        out += value.slice(i, start) + (env[value.slice(start + 2, end)] ?? "");
        i = end + 1;
    }
    return out + value.slice(i);
}

/** The tag rewrite_tag gives a record: the first Rule whose key matches, `$n` = the regex's groups. */
function rewrittenTag(conf: string, record: Record<string, string>, env: Record<string, string>): string | undefined {
    const rules = [...conf.matchAll(/^\s+(Rule\s+.*)$/gm)].map((m) => expandEnv(m[1], env));
    assert.ok(rules.length > 0, "rewrite_tag has rules");
    for (const rule of rules) {
        const [, key, regex, tag] = /^Rule\s+\$(\S+) (\S+) (\S+) (?:true|false)$/.exec(rule) ?? [];
        assert.doesNotMatch(tag, /\$\{/, `every variable is expanded in ${rule}`);
        const match = record[key] === undefined ? null : new RegExp(regex).exec(record[key]);
        if (match !== null) {
            return tag.replace(/\$(\d)/g, (_m, n: string) => match[Number(n)]);
        }
    }
    return undefined;
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

describe("access-log records: Lua filter (real LuaJIT) and rewrite_tag rules", () => {
    before(() => requireBinaries("luajit"));

    // 2024-12-31T15:30:00Z is 2025-01-01 00:30 in Tokyo: the day differs by time zone.
    const newYear = 1735659000;
    const pod = "istio-ingressgateway-7d9f8c6b5-x2x4z";
    const nginxRecord = {
        time: "2025-01-01T00:30:00+09:00",
        time_local: "01/Jan/2025:00:30:00 +0900",
        request_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        method: "GET",
        uri: "/watch/lv1?ref=x",
        status: "200",
    };

    it("passes nginx's parsed records through untouched (code 0: key order and time as nginx wrote them)", () => {
        const [out] = runFilter(renderLuaScript(), [{ timestamp: newYear, record: nginxRecord }], "Asia/Tokyo");
        assert.equal(out.code, 0);
        assert.deepEqual(out.record, nginxRecord);
    });

    it("keeps a record that did not parse as {received_at, message}, received_at in the container's TZ", () => {
        const raw = '{"time":"2025-01-01T00:30:00+09:00","uri":"/trunc';
        const [tokyo] = runFilter(
            renderLuaScript(),
            [{ timestamp: newYear + 0.25, record: { pri: "190", ident: "nginx", message: raw } }],
            "Asia/Tokyo",
        );
        assert.equal(tokyo.code, 1);
        assert.equal(tokyo.timestamp, newYear + 0.25, "the receive time stays the record's time");
        assert.deepEqual(tokyo.record, { received_at: "2025-01-01T00:30:00+09:00", message: raw });
        const [utc] = runFilter(renderLuaScript(), [{ timestamp: newYear, record: { message: raw } }], "UTC");
        assert.deepEqual(utc.record, { received_at: "2024-12-31T15:30:00+00:00", message: raw });
    });

    it("marks a parsed record without a valid time with its receive time", () => {
        const { time: _time, ...noTime } = nginxRecord;
        const [out] = runFilter(renderLuaScript(), [{ timestamp: 951782400, record: { ...noTime, time: "-" } }], "Asia/Tokyo");
        assert.equal(out.code, 1);
        assert.deepEqual(out.record, { ...noTime, time: "-", received_at: "2000-02-29T09:00:00+09:00" });
    });

    it("files nginx's records by the day in nginx's time and the pod's name; unparsed ones apart, by receive day", () => {
        const gateway = testGateway();
        const conf = renderFluentBitConf(gateway);
        const env = { POD_NAME: pod };
        assert.equal(rewrittenTag(conf, nginxRecord, env), "2025-0101/istio-ingressgateway-7d9f8c6b5-x2x4z-access.log");
        // 23:59:59 in Tokyo is still the 31st, whatever the UTC day.
        assert.equal(
            rewrittenTag(conf, { ...nginxRecord, time: "2024-12-31T23:59:59+09:00" }, env),
            "2024-1231/istio-ingressgateway-7d9f8c6b5-x2x4z-access.log",
        );
        const [unparsed] = runFilter(renderLuaScript(), [{ timestamp: newYear, record: { message: "not json" } }], "Asia/Tokyo");
        assert.equal(rewrittenTag(conf, unparsed.record, env), "2025-0101/istio-ingressgateway-7d9f8c6b5-x2x4z-unparsed.log");
        assert.equal(
            rewrittenTag(conf, nginxRecord, { POD_NAME: "istio-ingressgateway-7d9f8c6b5-abcde" }),
            "2025-0101/istio-ingressgateway-7d9f8c6b5-abcde-access.log",
            "another pod on the same node writes another file",
        );
    });

    it("sends only the rewritten tags to the file output, never the input's", () => {
        const conf = renderFluentBitConf(testGateway());
        const matchRegex = new RegExp(/Match_Regex\s+(\S+)/.exec(conf)?.[1] as string);
        assert.ok(matchRegex.test("2025-0101/istio-ingressgateway-7d9f8c6b5-x2x4z-access.log"));
        assert.ok(matchRegex.test("2025-0101/istio-ingressgateway-7d9f8c6b5-x2x4z-unparsed.log"));
        assert.equal(INPUT_TAG, "nginx.access");
        assert.ok(!matchRegex.test(INPUT_TAG), "the input's records are not written as they are");
        assert.match(conf, /Rule\s+\$time \S+ \S+ false\n/, "the original record is not kept");
    });
});
