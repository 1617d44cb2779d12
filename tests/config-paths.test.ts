/**
 * How a configuration problem is located and worded: key paths as users read them, the "did you
 * mean" suggestion, where a misplaced secret would end up, and the cross-section rules whose
 * messages name the fix. Plain functions, called directly; the stack-level rules through
 * parseStackConfig on an edited committed stack.
 */
import assert from "node:assert/strict";
import { checkSecrets, closest, formatPath, parsePath, parseStackConfig, suggestion } from "../components/config";
import { configProblems, editConfig, stackFile } from "./support/program";

describe("config key paths", () => {
    const services = { services: [{ name: "pc-web" }, { name: "sp-web" }] };

    it("names a list entry by its name, and by its index where the name cannot tell", () => {
        assert.equal(formatPath(["services", 1, "replicas"], services), "services[sp-web].replicas");
        // Two entries with one name: the index is the only unambiguous pointer.
        assert.equal(formatPath(["services", 1, "replicas"], { services: [{ name: "a" }, { name: "a" }] }), "services[1].replicas");
        // The name itself is the problem: by index; a key below the name still reads by name.
        assert.equal(formatPath(["services", 0, "name"], services), "services[0].name");
        assert.equal(formatPath(["services", 0, "name", "x"], services), "services[pc-web].name.x");
        // Lists without names, and names that would not read well between brackets.
        assert.equal(formatPath(["cluster", "logTypes", 0], { cluster: { logTypes: [{ name: "api" }] } }), "cluster.logTypes[0]");
        assert.equal(formatPath(["services", 0, "port"], { services: [{ name: "pc web" }] }), "services[0].port");
    });

    it("reads entries that are not mappings (null, a list with a name property) by index, without failing", () => {
        assert.equal(formatPath(["services", 0, "port"], { services: [null] }), "services[0].port");
        assert.equal(formatPath(["services", 0, "port"], { services: [Object.assign(["x"], { name: "listed" })] }), "services[0].port");
        // A null section on the way: the rest of the path is still written.
        assert.equal(formatPath(["rateLimits", "global", "limits", 0], { rateLimits: null }), "rateLimits.global.limits[0]");
        assert.equal(formatPath(["services", 0, "port"]), "services[0].port");
    });

    it("parses a stack file's secret path, multi-digit indexes included", () => {
        assert.deepEqual(parsePath("services[12].env.API_KEY"), ["services", 12, "env", "API_KEY"]);
        assert.deepEqual(parsePath("addons.datadog.apiKey"), ["addons", "datadog", "apiKey"]);
    });
});

describe("config did-you-mean", () => {
    it("suggests the closest allowed key within max(2, a third of its length) edits, alphabetically on a tie", () => {
        assert.equal(closest("replicsa", ["replicas", "resources"]), "replicas");
        // A tie at one edit each, in both orders of the allowed list.
        assert.equal(closest("ab", ["ac", "aa"]), "aa");
        assert.equal(closest("ab", ["aa", "ac"]), "aa");
        // 12 characters allow 4 edits: "timeuotSecnds" is 3 away from "timeoutSeconds".
        assert.equal(closest("timeuotSecnds", ["timeoutSeconds", "port"]), "timeoutSeconds");
        // 3 characters allow 2 edits: "xyz" is nothing like "abc".
        assert.equal(closest("xyz", ["abc"]), undefined);
        assert.equal(closest("abc", []), undefined);
    });

    it("words the suggestion, or says nothing", () => {
        assert.equal(suggestion("servces", ["services", "hosts"]), 'did you mean "services"? ');
        assert.equal(suggestion("zzzzzz", ["services", "hosts"]), "");
    });
});

describe("config secrets outside the fields that take one", () => {
    const collect = (keys: string[], paths?: string[]) => {
        const problems: string[] = [];
        checkSecrets(keys, paths, (path, message) => problems.push(`${formatPath(path)}: ${message}`));
        return problems;
    };
    const allowedText = "fields that take a secret: addons.argocd.repoCredentials.password, addons.datadog.apiKey, addons.datadog.appKey";

    it("accepts a secret in a field that takes one, and leaves other namespaces' secrets to their providers", () => {
        assert.deepEqual(
            collect([], ["bff-platform:addons.datadog.apiKey", "aws:secretKey", "bff-platform:addons.argocd.repoCredentials.password"]),
            [],
        );
        assert.deepEqual(collect(["aws:secretKey", "bff-platform:addons"]), [], "addons holds fields that take a secret");
        // A part of a field that takes a secret (a structured value, or an entry of a list-valued one).
        assert.deepEqual(collect([], ["bff-platform:addons.datadog.apiKey.value", "bff-platform:addons.datadog.appKey[0].value"]), []);
    });

    it("says where a misplaced secret would end up, with the exact path when the stack file gives it", () => {
        assert.deepEqual(collect([], ["bff-platform:services[3].env.API_KEY"]), [
            `services[3].env.API_KEY: is a secret (secure:) but takes none: its plain value would end up in the service's ConfigMap, in plain text in the cluster and in the Argo CD repository; ${allowedText}`,
        ]);
        // A field below one that takes a secret is not one itself.
        assert.deepEqual(collect([], ["bff-platform:addons.datadog.apiKeyFile"]), [
            `addons.datadog.apiKeyFile: is a secret (secure:) but takes none: its plain value would end up in resource inputs and rendered files; ${allowedText}`,
        ]);
        assert.deepEqual(collect(["bff-platform:delivery"]), [
            `delivery: holds a secret (secure:) value, but no field of delivery takes a secret: its plain value would end up in every Argo CD Application; ${allowedText}`,
        ]);
    });
});

describe("config rules across sections, worded with their fix", () => {
    const dev = () => stackFile("dev").configMap;

    it("names the node group prefix AWS would refuse, and the two names to shorten", () => {
        const configMap = editConfig(dev(), "cluster", (cluster) => ({ ...cluster, name: "frontend-development-cluster" }));
        const problems = configProblems(
            editConfig(configMap, "nodePools", (pools) => [{ ...pools[0], name: "workers-spot-general" }, ...pools.slice(1)]),
        );
        assert.deepEqual(problems, [
            `bff-platform:nodePools[0].name: the node group name prefix "frontend-development-cluster-workers-spot-general-" (cluster.name, the pool name and two '-') is 50 characters long, more than the 37 AWS allows (63 minus the provider's 26-character unique suffix): shorten the pool name or cluster.name`,
        ]);
    });

    it("allows a node group name prefix of exactly 37 characters, and not 38", () => {
        const withPool = (pool: string) =>
            editConfig(
                editConfig(dev(), "cluster", (cluster) => ({ ...cluster, name: "frontend-development-clust" })),
                "nodePools",
                (pools) => [{ ...pools[0], name: pool }, ...pools.slice(1)],
            );
        // "frontend-development-clust" (26) + "-" + the pool + "-".
        assert.doesNotThrow(() => parseStackConfig(withPool("gateway-a"), "dev"));
        const problems = configProblems(withPool("gateway-ab"));
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(
            problems[0],
            /^bff-platform:nodePools\[0\]\.name: the node group name prefix "frontend-development-clust-gateway-ab-" .* is 38 characters long, more than the 37 AWS allows/,
        );
    });

    it("refuses two hosts, or two node pools, with one name; and gateways without gateway nodes", () => {
        assert.deepEqual(
            configProblems(editConfig(dev(), "hosts", (hosts) => [...hosts, { name: "pc", hostname: "pc.dev.example.com" }])),
            [
                'bff-platform:hosts[2].name: "pc" is already the name of hosts[0]; names must be unique',
                'bff-platform:hosts[2].hostname: "pc.dev.example.com" is already the hostname of hosts[0]; hostnames must be unique',
            ],
        );
        assert.deepEqual(configProblems(editConfig(dev(), "nodePools", (pools) => [...pools, { ...pools[1] }])), [
            'bff-platform:nodePools[2].name: "worker" is already the name of nodePools[1]; names must be unique',
        ]);
        assert.deepEqual(
            configProblems(editConfig(dev(), "nodePools", (pools) => pools.filter((pool: { role: string }) => pool.role !== "gateway"))),
            ['bff-platform:nodePools: needs a pool with role "gateway": gateways run on dedicated gateway nodes (docs/design.md §4)'],
        );
    });

    it("does not build node group names from a cluster name that is itself wrong", () => {
        const problems = configProblems(
            editConfig(dev(), "cluster", (cluster) => ({ ...cluster, name: "Frontend_Development_Cluster_X" })),
        );
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^bff-platform:cluster\.name: /);
    });

    it("names a route host that no gateway serves", () => {
        const configMap = editConfig(dev(), "gateways", (gateways) => [{ ...gateways[0], hosts: ["pc"] }]);
        const problems = configProblems(configMap);
        assert.ok(problems.length > 0);
        for (const problem of problems) {
            assert.match(
                problem,
                /^bff-platform:services\[[a-z-]+\]\.routes\[\d+\]\.host: "sp" is served by no gateway: add it to a gateways\[\]\.hosts list$/,
            );
        }
    });
});

describe("config problems of shape, each in one line with what was given", () => {
    const dev = () => stackFile("dev").configMap;
    const withService = (edit: (service: Record<string, unknown>) => void) =>
        editConfig(dev(), "services", (services) => {
            edit(services[0]);
            return services;
        });

    it("says what a value of the wrong type is: null, a list, an object, or its type and value", () => {
        assert.deepEqual(configProblems(withService((s) => (s.port = null))), [
            "bff-platform:services[pc-web].port: must be a number, got null",
        ]);
        assert.deepEqual(configProblems(withService((s) => (s.port = [1]))), [
            "bff-platform:services[pc-web].port: must be a number, got a list",
        ]);
        assert.deepEqual(configProblems(withService((s) => (s.port = { a: 1 }))), [
            "bff-platform:services[pc-web].port: must be a number, got an object",
        ]);
        // A bare word where a list belongs: the schema says what it expected.
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:hosts": "pc" }), ['bff-platform:hosts: must be a list, got string "pc"']);
        assert.deepEqual(configProblems(editConfig(dev(), "gateways", (g) => ((g[0].serviceAnnotations = { owner: 1 }), g))), [
            "bff-platform:gateways[istio-ingressgateway].serviceAnnotations.owner: must be a string, got number 1",
        ]);
    });

    it("gives a bounded number's range, and an enum's allowed values", () => {
        assert.deepEqual(
            configProblems(withService((s) => (s.hpa = { minReplicas: 1, maxReplicas: 2, targetCpuUtilization: 150 }))).filter((p) =>
                p.includes("targetCpuUtilization"),
            ),
            ["bff-platform:services[pc-web].hpa.targetCpuUtilization: 150 is out of range 1..100"],
        );
        assert.deepEqual(configProblems(withService((s) => (s.strategy = "blue"))), [
            'bff-platform:services[pc-web].strategy: "blue" is not allowed; allowed values: "canary", "rollingUpdate"',
        ]);
    });

    it("names an empty list, and says no host is defined where routes and gateways refer to one", () => {
        const problems = configProblems(editConfig(dev(), "hosts", () => []));
        assert.equal(problems[0], "bff-platform:hosts: must have at least 1 item, got 0");
        assert.ok(problems.length > 1);
        for (const problem of problems.slice(1)) {
            assert.match(problem, /: "(pc|sp)" is not a name in hosts \(no host is defined\)$/);
        }
        assert.deepEqual(configProblems(editConfig(dev(), "gateways", (g) => ((g[0].hosts = ["pc", "sp", "tv"]), g))), [
            'bff-platform:gateways[istio-ingressgateway].hosts[2]: "tv" is not a name in hosts (known hosts: pc, sp)',
        ]);
    });

    it("suggests the project namespace for a misspelt one, and lists the known namespaces", () => {
        assert.deepEqual(configProblems({ ...dev(), "bf-platform:timeZone": "UTC" }), [
            'bf-platform:timeZone: unknown config namespace "bf-platform"; did you mean "bff-platform:timeZone"? known namespaces: bff-platform, aws, kubernetes, random, pulumi',
        ]);
        assert.deepEqual(configProblems({ ...dev(), "foo:bar": "1" }), [
            'foo:bar: unknown config namespace "foo"; known namespaces: bff-platform, aws, kubernetes, random, pulumi',
        ]);
    });
});
