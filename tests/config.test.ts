import assert from "node:assert/strict";
import { ConfigError, parseStackConfig } from "../components/config";
import { parseStackFile, SECRET_PLACEHOLDER } from "../tools/stack-file";
import { editConfig, stackFile, STACKS } from "./support/program";

/** The problems a config map is rejected with (fails when it is accepted). */
function problemsOf(configMap: Record<string, string>): string[] {
    try {
        parseStackConfig(configMap);
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        return error.problems;
    }
    assert.fail("the configuration was accepted");
}

const production = () => stackFile("production").configMap;
const editService = (index: number, edit: (service: any) => void) =>
    editConfig(production(), "services", (services) => {
        edit(services[index]);
        return services;
    });

describe("stack configuration", () => {
    for (const stack of STACKS) {
        it(`accepts the committed Pulumi.${stack}.yaml`, () => {
            const { config } = parseStackConfig(stackFile(stack).configMap);
            assert.equal(config.environment, stack);
        });
    }

    it("describes a production-sized frontend: 12+ services, pc and sp hosts, on-demand nodes", () => {
        const { config } = parseStackConfig(production());
        assert.ok(config.services.length >= 12, `${config.services.length} services`);
        assert.deepEqual(
            config.hosts.map((h) => h.name),
            ["pc", "sp"],
        );
        assert.ok(config.services.some((s) => s.name === "pc-web") && config.services.some((s) => s.name === "sp-web"));
        assert.ok(config.nodePools.every((p) => p.capacityType === "ON_DEMAND"));
        assert.equal(config.delivery.targetRevision, "release/production");
    });

    it("makes dev smaller and cheaper: spot nodes and fewer replicas", () => {
        const dev = parseStackConfig(stackFile("dev").configMap).config;
        const prod = parseStackConfig(production()).config;
        assert.ok(dev.nodePools.every((p) => p.capacityType === "SPOT"));
        assert.ok(dev.services.length < prod.services.length);
        const maxPods = (c: typeof dev) => c.services.reduce((n, s) => n + (s.hpa?.maxReplicas ?? s.replicas ?? 0), 0);
        assert.ok(maxPods(dev) < maxPods(prod) / 10);
        assert.equal(dev.delivery.targetRevision, "master");
    });

    it("fills defaults from one place", () => {
        const { config } = parseStackConfig(stackFile("dev").configMap);
        assert.equal(config.appNamespace, "frontend");
        assert.equal(config.gateways[0].namespace, "frontend-gateway");
        assert.equal(config.gateways[0].mode, "gatewayInjection");
        assert.equal(config.rateLimits.global?.failureModeDeny, false);
        assert.equal(config.delivery.manifestsPath, "kubernetes/overlays");
    });

    it("rejects a bad name, an unknown key and a negative replica count with three clear lines", () => {
        const configMap = editConfig(stackFile("dev").configMap, "services", (services) => {
            services[0].name = "PC_Web";
            services[1].replicsa = 2;
            services[2].replicas = -1;
            return services;
        });
        assert.deepEqual(problemsOf(configMap), [
            `bff-platform:services[0].name: "PC_Web" has characters or a shape Kubernetes rejects (allowed: lowercase letters, digits and '-', starting and ending with a letter or digit)`,
            `bff-platform:services[1].replicsa: unknown key; did you mean "replicas"? allowed keys: name, runtime, image, version, replicas, resources, hpa, capacity, rateLimit, port, healthPath, routes, env`,
            "bff-platform:services[2].replicas: must be at least 0, got -1",
        ]);
    });

    it("lists every problem once, before anything is created, in one error", () => {
        const error = (() => {
            try {
                parseStackConfig(editService(3, (s) => ((s.version = "latest"), (s.image = "repo/app:1.0"), (s.hpa.minReplicas = 50))));
            } catch (e) {
                return e as ConfigError;
            }
            return undefined;
        })();
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 3, error.message);
        assert.match(error.message, /^The stack configuration has 3 problems:\n {2}- /);
        assert.match(error.problems.join("\n"), /services\[3\]\.version: "latest" is not a version/);
        assert.match(error.problems.join("\n"), /services\[3\]\.image: .* without tag or digest/);
        assert.match(error.problems.join("\n"), /services\[3\]\.hpa\.minReplicas: 50 is above maxReplicas 40/);
    });

    it("rejects unknown top-level keys with a suggestion", () => {
        const configMap = { ...production(), "bff-platform:servces": "[]" };
        assert.deepEqual(problemsOf(configMap), [
            'bff-platform:servces: unknown key; did you mean "services"? allowed keys: environment, appNamespace, cluster, nodePools, hosts, gateways, services, rateLimits, backends, delivery',
        ]);
    });

    it("leaves keys of other namespaces to their providers but requires aws:region", () => {
        const withProviderKeys = { ...production(), "kubernetes:enableServerSideApply": "true" };
        assert.doesNotThrow(() => parseStackConfig(withProviderKeys));
        const { ["aws:region"]: _region, ...withoutRegion } = production();
        assert.deepEqual(problemsOf(withoutRegion), ["aws:region: is required (e.g. pulumi config set aws:region ap-northeast-1)"]);
    });

    it("keeps room in service names for the longest derived suffix", () => {
        const ok = "a".repeat(55);
        assert.doesNotThrow(() => parseStackConfig(editService(0, (s) => (s.name = ok))));
        assert.match(
            problemsOf(editService(0, (s) => (s.name = "a".repeat(56))))[0],
            /services\[0\]\.name: .* 56 characters long, more than the 55 allowed here/,
        );
    });

    it("checks types and says what was given", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.hpa.maxReplicas = "20"))), [
            'bff-platform:services[0].hpa.maxReplicas: must be a number, got string "20"',
        ]);
        assert.deepEqual(problemsOf(editService(0, (s) => delete s.resources)), [
            "bff-platform:services[0].resources: is required (expected object)",
        ]);
        assert.deepEqual(problemsOf(editService(0, (s) => (s.runtime = "deno"))), [
            'bff-platform:services[0].runtime: "deno" is not allowed; allowed values: "nodejs", "ruby", "scala", "php"',
        ]);
    });

    it("rejects requests above limits and quantities that are not quantities", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.resources.requests.memory = "2Gi"))), [
            "bff-platform:services[0].resources.requests.memory: 2Gi is above limits.memory 1Gi",
        ]);
        assert.deepEqual(problemsOf(editService(0, (s) => (s.resources.requests.cpu = "2"))), [
            "bff-platform:services[0].resources.requests.cpu: 2 is above limits.cpu 1",
        ]);
        assert.match(
            problemsOf(editService(0, (s) => (s.resources.limits.memory = "1 GB")))[0],
            /limits\.memory: "1 GB" is not a Kubernetes quantity/,
        );
    });

    it("requires replicas without an HPA and refuses them with one", () => {
        assert.deepEqual(problemsOf(editService(13, (s) => delete s.replicas)), [
            "bff-platform:services[13].replicas: is required when no hpa is set",
        ]);
        assert.match(
            problemsOf(editService(0, (s) => (s.replicas = 3)))[0],
            /services\[0\]\.replicas: conflicts with hpa: the autoscaler owns the replica count/,
        );
    });

    it("checks references between sections", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.routes[0].host = "tablet"))), [
            'bff-platform:services[0].routes[0].host: "tablet" is not a name in hosts (known hosts: pc, sp)',
        ]);
        assert.deepEqual(problemsOf(editService(1, (s) => (s.name = "pc-web"))), [
            'bff-platform:services[1].name: "pc-web" is already used by services[0]; names must be unique',
        ]);
        assert.deepEqual(problemsOf(editService(2, (s) => (s.routes = [{ host: "pc", pathPrefix: "/" }]))), [
            "bff-platform:services[2].routes[0].pathPrefix: / on host pc is already routed to pc-web",
        ]);
        const noWorkers = editConfig(production(), "nodePools", (pools) => pools.filter((p: { role: string }) => p.role !== "worker"));
        assert.deepEqual(problemsOf(noWorkers), [
            'bff-platform:nodePools: needs at least one pool with role "worker": services run on worker nodes',
        ]);
    });

    it("keeps node pool sizes consistent", () => {
        const configMap = editConfig(production(), "nodePools", (pools) => {
            pools[1].desiredSize = 40;
            return pools;
        });
        assert.deepEqual(problemsOf(configMap), ["bff-platform:nodePools[1].desiredSize: 40 is outside minSize..maxSize (6..30)"]);
    });

    it("checks the local limit against the HPA trigger and the pod performance limit (SYSTEM.md §5)", () => {
        const tooLow = problemsOf(editService(0, (s) => (s.rateLimit.local.requestsPerSecond = 8)));
        assert.deepEqual(tooLow, [
            "bff-platform:services[0].rateLimit.local.requestsPerSecond: local limit 8 rps per pod is not above the HPA trigger of 8 rps per pod: requests would be rejected before the autoscaler adds pods",
        ]);
        const tooHigh = problemsOf(editService(0, (s) => (s.rateLimit.local.requestsPerSecond = 20)));
        assert.match(tooHigh[0], /local limit 20 rps per pod is not below the pod performance limit of 14 rps/);
    });

    it("requires exactly one of path and pathRegex on a global limit", () => {
        const configMap = editConfig(production(), "rateLimits", (limits) => {
            limits.global.limits[0].path = "/watch";
            return limits;
        });
        assert.deepEqual(problemsOf(configMap), ["bff-platform:rateLimits.global.limits[0]: set exactly one of path and pathRegex"]);
    });
});

describe("stack files", () => {
    const text = [
        "config:",
        "  aws:region: ap-northeast-1",
        "  bff-platform:environment: dev",
        "  bff-platform:token:",
        "    secure: v1:abc:def",
        "  bff-platform:delivery:",
        "    repoURL: https://example.com/repo.git",
        "    nested:",
        "      secure: v1:ghi",
        "  plain: value",
    ].join("\n");

    it("reads values as the engine passes them: strings as they are, objects as JSON", () => {
        const file = parseStackFile(text, "bff-platform");
        assert.equal(file.configMap["bff-platform:environment"], "dev");
        assert.equal(file.configMap["bff-platform:plain"], "value", "keys without a namespace belong to the project");
        assert.deepEqual(JSON.parse(file.configMap["bff-platform:delivery"]), {
            repoURL: "https://example.com/repo.git",
            nested: SECRET_PLACEHOLDER,
        });
    });

    it("replaces secure values it cannot decrypt offline by a placeholder and says which", () => {
        const file = parseStackFile(text, "bff-platform");
        assert.equal(file.configMap["bff-platform:token"], SECRET_PLACEHOLDER);
        assert.deepEqual(file.secretKeys, ["bff-platform:delivery", "bff-platform:token"]);
        assert.deepEqual(file.placeholders, ["bff-platform:delivery.nested", "bff-platform:token"]);
        assert.ok(!JSON.stringify(file.configMap).includes("v1:abc"), "ciphertext is not passed on");
    });

    it("reports which config keys are secrets after validation", () => {
        const { secretKeys } = parseStackConfig(production(), ["bff-platform:delivery", "aws:secretKey"]);
        assert.deepEqual(secretKeys, ["delivery"]);
    });
});
