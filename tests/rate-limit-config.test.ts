/**
 * The `rateLimits.global` section: every limit must be a descriptor envoyproxy/ratelimit and
 * Envoy accept, and must fit under the capacity ceiling of docs/design.md §5, checked before anything
 * is created, with the key path and the numbers.
 */
import assert from "node:assert/strict";
import {
    coveredServices,
    globalLimitCapacity,
    limitRps,
    literalPrefix,
    parseStackConfig,
    re2FullMatch,
    re2Problem,
} from "../components/config";
import { configProblems, editConfig, stackFile } from "./support/program";

const problemsOf = configProblems;

const production = () => stackFile("production").configMap;
const dev = () => stackFile("dev").configMap;
/** Production with its `rateLimits.global.limits` replaced. */
const withLimits = (limits: unknown[], base = production()) =>
    editConfig(base, "rateLimits", (rateLimits) => {
        rateLimits.global.limits = limits;
        return rateLimits;
    });
const watch = (fields: Record<string, unknown> = {}) => ({
    name: "watch",
    pathRegex: "/watch/(lv\\d+)",
    unit: "second",
    requestsPerUnit: 450,
    ...fields,
});

describe("global rate limit configuration", () => {
    it("accepts the committed stacks and fills the defaults", () => {
        const prod = parseStackConfig(production(), "production").config.rateLimits.global;
        assert.equal(prod?.redis, "elasticache");
        assert.equal(prod?.namespace, "frontend-ratelimit");
        assert.equal(prod?.replicas, 2);
        assert.equal(prod?.timeout, "50ms");
        assert.equal(prod?.failureModeDeny, false);
        const devGlobal = parseStackConfig(dev(), "dev").config.rateLimits.global;
        assert.equal(devGlobal?.redis, "inCluster");
        assert.deepEqual(devGlobal?.limits, [{ name: "top-page", path: "/", unit: "minute", requestsPerUnit: 10 }]);
    });

    it("rejects zero requests and unknown units with the key path", () => {
        assert.deepEqual(problemsOf(withLimits([watch({ requestsPerUnit: 0 })])), [
            "bff-platform:rateLimits.global.limits[watch].requestsPerUnit: must be at least 1, got 0",
        ]);
        assert.deepEqual(problemsOf(withLimits([watch({ unit: "week" })])), [
            'bff-platform:rateLimits.global.limits[watch].unit: "week" is not allowed; allowed values: "second", "minute", "hour", "day"',
        ]);
    });

    it("rejects duplicate descriptors: the same path, the same regex, or the same name", () => {
        const top = { name: "top", path: "/", unit: "minute", requestsPerUnit: 600 };
        assert.deepEqual(problemsOf(withLimits([top, { ...top, name: "top-again" }])), [
            "bff-platform:rateLimits.global.limits[top-again].path: limits the same requests (PATH /) as limit top: envoyproxy/ratelimit refuses a duplicate descriptor, and two counters for one path would each let the full rate through",
        ]);
        assert.deepEqual(problemsOf(withLimits([watch(), watch({ name: "watch-2", requestsPerUnit: 100 })])), [
            "bff-platform:rateLimits.global.limits[watch-2].pathRegex: limits the same requests (regex /watch/(lv\\d+)) as limit watch: envoyproxy/ratelimit refuses a duplicate descriptor, and two counters for one path would each let the full rate through",
        ]);
        assert.deepEqual(problemsOf(withLimits([watch(), watch({ pathRegex: "/live/(lv\\d+)", requestsPerUnit: 100 })])), [
            'bff-platform:rateLimits.global.limits[1].name: "watch" is already the name of limits[0]; names must be unique',
        ]);
    });

    it("rejects regexes RE2 does not compile (lookahead, backreference, syntax errors), with RE2's reason", () => {
        const problems = problemsOf(
            withLimits([
                watch({ name: "ahead", pathRegex: "/watch/(?=lv)" }),
                watch({ name: "back", pathRegex: "/(a)/\\1" }),
                watch({ name: "broken", pathRegex: "/watch/[" }),
            ]),
        );
        assert.deepEqual(problems, [
            'bff-platform:rateLimits.global.limits[ahead].pathRegex: "/watch/(?=lv)" is not an RE2 regular expression (Envoy\'s safe_regex): invalid perl operator: (?=',
            'bff-platform:rateLimits.global.limits[back].pathRegex: "/(a)/\\\\1" is not an RE2 regular expression (Envoy\'s safe_regex): invalid escape sequence: \\1',
            'bff-platform:rateLimits.global.limits[broken].pathRegex: "/watch/[" is not an RE2 regular expression (Envoy\'s safe_regex): missing ]: [',
        ]);
    });

    it("rejects a path that is not a request path", () => {
        assert.deepEqual(problemsOf(withLimits([watch({ pathRegex: undefined, path: "watch" })])), [
            `bff-platform:rateLimits.global.limits[watch].path: "watch" must be a request path starting with '/', without spaces`,
        ]);
    });

    it("requires a gateway: the limits are enforced by its Envoy", () => {
        const configMap = editConfig(production(), "gateways", () => []);
        const problems = problemsOf(configMap).filter((p) => p.includes("rateLimits"));
        assert.deepEqual(problems, [
            "bff-platform:rateLimits.global: needs an ingress gateway: global limits are enforced by the gateway's Envoy (EnvoyFilters on its pods); add a gateways entry",
        ]);
    });

    it("takes ElastiCache settings only with redis elasticache, and a cluster name that fits ElastiCache's id", () => {
        const inCluster = editConfig(production(), "rateLimits", (r) => {
            r.global.redis = "inCluster";
            r.global.elasticache = { nodeType: "cache.t4g.small" };
            return r;
        });
        assert.deepEqual(problemsOf(inCluster), [
            'bff-platform:rateLimits.global.elasticache: applies to redis "elasticache" only (redis is "inCluster")',
        ]);
        const longName = editConfig(production(), "cluster", (c) => {
            c.name = "frontend-production-tokyo-green";
            return c;
        });
        assert.deepEqual(problemsOf(longName), [
            `bff-platform:nodePools[0].name: the node group name prefix "frontend-production-tokyo-green-gateway-" (cluster.name, the pool name and two '-') is 40 characters long, more than the 37 AWS allows (63 minus the provider's 26-character unique suffix): shorten the pool name or cluster.name`,
            `bff-platform:nodePools[1].name: the node group name prefix "frontend-production-tokyo-green-worker-" (cluster.name, the pool name and two '-') is 39 characters long, more than the 37 AWS allows (63 minus the provider's 26-character unique suffix): shorten the pool name or cluster.name`,
            `bff-platform:nodePools[2].name: the node group name prefix "frontend-production-tokyo-green-system-" (cluster.name, the pool name and two '-') is 39 characters long, more than the 37 AWS allows (63 minus the provider's 26-character unique suffix): shorten the pool name or cluster.name`,
            'bff-platform:rateLimits.global.redis: the ElastiCache replication group would be named "frontend-production-tokyo-green-ratelimit" (41 characters), which ElastiCache refuses (at most 40 characters, no "--"): shorten cluster.name',
        ]);
    });

    describe("capacity ceiling (docs/design.md §5)", () => {
        it("accepts the committed watch limit: 450 rps <= min(2 × 40 × 6 = 480, backend 450)", () => {
            const { config } = parseStackConfig(production(), "production");
            const capacity = globalLimitCapacity(config.rateLimits.global!.limits[0], config, config.backends);
            assert.deepEqual(
                capacity.covered.map((c) => [c.name, c.hosts, c.pods, c.maxRps]),
                [
                    ["pc-watch", ["pc"], 40, 240],
                    ["sp-watch", ["sp"], 40, 240],
                ],
            );
            assert.equal(capacity.bffRps, 480);
            assert.equal(capacity.backend?.name, "live-program-api");
            assert.equal(capacity.ceiling, 450);
            assert.equal(capacity.rps, 450);
        });

        it("rejects a limit above the backend, with the numbers", () => {
            assert.deepEqual(problemsOf(withLimits([watch({ requestsPerUnit: 451 })])), [
                "bff-platform:rateLimits.global.limits[watch].requestsPerUnit: 451 per second (451 rps) is above the ceiling of 450 rps = " +
                    "min(BFF capacity without scale-out 480 rps (pc-watch 40 pods × 6 rps + sp-watch 40 pods × 6 rps), smallest backend live-program-api 450 rps): " +
                    "lower the limit, or raise the HPA maximum or the backend capacity",
            ]);
        });

        it("compares the average rate of other units", () => {
            assert.doesNotThrow(() => parseStackConfig(withLimits([watch({ unit: "minute", requestsPerUnit: 27000 })]), "production"));
            assert.match(
                problemsOf(withLimits([watch({ unit: "minute", requestsPerUnit: 27060 })]))[0],
                /27060 per minute \(451 rps\) is above the ceiling of 450 rps/,
            );
            assert.equal(limitRps({ unit: "hour", requestsPerUnit: 7200 }), 2);
        });

        it("rejects a limit above the BFFs' capacity without scale-out when the backends take more", () => {
            const configMap = editConfig(withLimits([watch({ requestsPerUnit: 481 })]), "backends", () => [
                { name: "live-program-api", maxRps: 1000 },
                { name: "comment-server", maxRps: 2000 },
            ]);
            assert.deepEqual(problemsOf(configMap), [
                "bff-platform:rateLimits.global.limits[watch].requestsPerUnit: 481 per second (481 rps) is above the ceiling of 480 rps = " +
                    "min(BFF capacity without scale-out 480 rps (pc-watch 40 pods × 6 rps + sp-watch 40 pods × 6 rps), smallest backend live-program-api 1000 rps): " +
                    "lower the limit, or raise the HPA maximum or the backend capacity",
            ]);
            const raised = editConfig(configMap, "services", (services) =>
                services.map((s: { name: string; hpa?: { maxReplicas: number } }) =>
                    s.name === "pc-watch" ? { ...s, hpa: { ...s.hpa, maxReplicas: 41 } } : s,
                ),
            );
            // sp-watch extends pc-watch: both grow to 41 pods, 2 × 41 × 6 = 492 rps.
            assert.doesNotThrow(() => parseStackConfig(raised, "production"));
        });

        it("checks against the backend alone when no service reached declares capacity figures", () => {
            const configMap = withLimits([{ name: "account", path: "/account", unit: "second", requestsPerUnit: 500 }]);
            assert.match(
                problemsOf(configMap)[0],
                /limits\[account\]\.requestsPerUnit: 500 per second \(500 rps\) is above the ceiling of 450 rps = smallest backend live-program-api 450 rps/,
            );
            // Dev declares neither capacity nor backends: nothing to compare with.
            assert.doesNotThrow(() =>
                parseStackConfig(withLimits([{ name: "top", path: "/", unit: "second", requestsPerUnit: 100000 }], dev()), "dev"),
            );
        });
    });

    describe("which services a limit reaches", () => {
        const config = () => parseStackConfig(production(), "production").config;
        const reached = (limit: Record<string, unknown>) =>
            coveredServices({ name: "x", unit: "second", requestsPerUnit: 1, ...limit }, config().services, config().gateways).map(
                (c) => c.name,
            );

        it("an exact path: the owner of its longest route prefix on every host of the gateways", () => {
            assert.deepEqual(reached({ path: "/" }), ["pc-web", "sp-web"]);
            assert.deepEqual(reached({ path: "/watch/lv1?from=top" }), ["pc-watch", "sp-watch"]);
            assert.deepEqual(reached({ path: "/api/search/items" }), ["search-bff"]);
        });

        it("a regex: the owner of its literal prefix and every route under that prefix", () => {
            assert.deepEqual(reached({ pathRegex: "/api/(search|ranking)/.+" }), [
                "pc-web",
                "sp-web",
                "search-bff",
                "ranking-bff",
                "comment-bff",
                "gift-bff",
                "notification-bff",
                "ads-bff",
            ]);
            assert.deepEqual(reached({ pathRegex: "/timeshift/\\d+" }), ["pc-timeshift", "sp-timeshift"]);
            // No literal prefix: any path, so every service with a route.
            assert.equal(reached({ pathRegex: ".*\\.json" }).length, 14);
        });

        it("reads the literal prefix of a regex conservatively", () => {
            assert.equal(literalPrefix("/watch/(lv\\d+)"), "/watch/");
            assert.equal(literalPrefix("^/api/v1/.*"), "/api/v1/");
            assert.equal(literalPrefix("/watch\\/lv\\d+"), "/watch/lv");
            assert.equal(literalPrefix("/watchs?/x"), "/watch");
            assert.equal(literalPrefix("/ab+c"), "/ab");
            assert.equal(literalPrefix("/a|/b"), "");
            assert.equal(literalPrefix("/(a|b)/c"), "/");
            assert.equal(literalPrefix("[/]watch"), "");
        });

        it("matches regexes as Envoy does: RE2, against the whole :path", () => {
            assert.equal(re2Problem("/watch/(lv\\d+)"), undefined);
            assert.equal(re2FullMatch("/watch/(lv\\d+)", "/watch/lv12345"), true);
            assert.equal(re2FullMatch("/watch/(lv\\d+)", "/watch/lv12345?ref=top"), false);
            assert.equal(re2FullMatch("/watch/(lv\\d+)", "/en/watch/lv1"), false);
        });
    });
});
