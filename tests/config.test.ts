import assert from "node:assert/strict";
import { ConfigError, parseStackConfig } from "../components/config";
import { parseStackFile, SECRET_PLACEHOLDER } from "../cli/stack-file";
import { configProblems, editConfig, stackFile, STACKS } from "./support/program";

const problemsOf = configProblems;

const production = () => stackFile("production").configMap;
const editService = (index: number, edit: (service: any) => void) =>
    editConfig(production(), "services", (services) => {
        edit(services[index]);
        return services;
    });

describe("stack configuration", () => {
    for (const stack of STACKS) {
        it(`accepts the committed Pulumi.${stack}.yaml`, () => {
            const { config } = parseStackConfig(stackFile(stack).configMap, stack);
            assert.equal(config.environment, stack);
        });
    }

    it("describes a production-sized frontend: 12+ services, pc and sp hosts, on-demand nodes", () => {
        const { config } = parseStackConfig(production(), "production");
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
        const dev = parseStackConfig(stackFile("dev").configMap, "dev").config;
        const prod = parseStackConfig(production(), "production").config;
        assert.ok(dev.nodePools.every((p) => p.capacityType === "SPOT"));
        assert.ok(dev.services.length < prod.services.length);
        const maxPods = (c: typeof dev) => c.services.reduce((n, s) => n + (s.hpa?.maxReplicas ?? s.replicas ?? 0), 0);
        assert.ok(maxPods(dev) < maxPods(prod) / 10);
        assert.equal(dev.delivery.targetRevision, "master");
    });

    it("fills defaults from one place", () => {
        const { config } = parseStackConfig(stackFile("dev").configMap, "dev");
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
            `bff-platform:services[sp-web].replicsa: unknown key; did you mean "replicas"? allowed keys: name, extends, runtime, image, version, strategy, canary, replicas, resources, hpa, capacity, rateLimit, port, healthPath, routes, previews, mirror, timeout, retries, circuitBreaker, migration, jobs, staticAssets, syncWave, env`,
            "bff-platform:services[pc-watch].replicas: must be at least 0, got -1",
        ]);
    });

    it("lists every problem once, before anything is created, in one error", () => {
        const error = (() => {
            try {
                parseStackConfig(
                    editService(3, (s) => ((s.version = "latest"), (s.image = "repo/app:1.0"), (s.hpa.minReplicas = 50))),
                    "production",
                );
            } catch (e) {
                return e as ConfigError;
            }
            return undefined;
        })();
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 3, error.message);
        assert.match(error.message, /^The stack configuration has 3 problems:\n {2}- /);
        assert.match(error.problems.join("\n"), /services\[pc-watch\]\.version: "latest" is not a version/);
        assert.match(error.problems.join("\n"), /services\[pc-watch\]\.image: .* without tag or digest/);
        assert.match(error.problems.join("\n"), /services\[pc-watch\]\.hpa\.minReplicas: 50 is above maxReplicas 40/);
    });

    it("rejects unknown top-level keys with a suggestion", () => {
        const configMap = { ...production(), "bff-platform:servces": "[]" };
        assert.deepEqual(problemsOf(configMap), [
            'bff-platform:servces: unknown key; did you mean "services"? allowed keys: environment, environmentOverride, appNamespace, timeZone, cluster, nodePools, hosts, gateways, services, rateLimits, backends, delivery, staticAssets, ecr, schedule, cost, network, addons',
        ]);
    });

    it("leaves keys of other namespaces to their providers but requires aws:region", () => {
        const withProviderKeys = { ...production(), "kubernetes:enableServerSideApply": "true" };
        assert.doesNotThrow(() => parseStackConfig(withProviderKeys, "production"));
        const { ["aws:region"]: _region, ...withoutRegion } = production();
        assert.deepEqual(problemsOf(withoutRegion), ["aws:region: is required (e.g. pulumi config set aws:region ap-northeast-1)"]);
    });

    it("keeps room in service names for the longest derived suffix", () => {
        const ok = "a".repeat(56);
        assert.doesNotThrow(() =>
            parseStackConfig(
                editService(10, (s) => (s.name = ok)),
                "production",
            ),
        );
        assert.match(
            problemsOf(editService(10, (s) => (s.name = "a".repeat(57))))[0],
            /services\[10\]\.name: .* 57 characters long, more than the 56 allowed here/,
        );
    });

    it("checks types and says what was given", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.hpa.maxReplicas = "20"))), [
            'bff-platform:services[pc-web].hpa.maxReplicas: must be a number, got string "20"',
        ]);
        assert.deepEqual(problemsOf(editService(0, (s) => delete s.resources)), [
            "bff-platform:services[pc-web].resources: is required (expected object)",
        ]);
        assert.deepEqual(problemsOf(editService(0, (s) => (s.runtime = "deno"))), [
            'bff-platform:services[pc-web].runtime: "deno" is not allowed; allowed values: "nodejs", "ruby", "scala", "php"',
        ]);
    });

    it("rejects requests above limits and quantities that are not quantities", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.resources.requests.memory = "2Gi"))), [
            "bff-platform:services[pc-web].resources.requests.memory: 2Gi is above limits.memory 1Gi",
        ]);
        assert.deepEqual(problemsOf(editService(0, (s) => (s.resources.requests.cpu = "2"))), [
            "bff-platform:services[pc-web].resources.requests.cpu: 2 is above limits.cpu 1",
        ]);
        assert.match(
            problemsOf(editService(0, (s) => (s.resources.limits.memory = "1 GB")))[0],
            /limits\.memory: "1 GB" is not a Kubernetes quantity/,
        );
    });

    it("requires replicas without an HPA and refuses them with one", () => {
        assert.deepEqual(problemsOf(editService(14, (s) => delete s.replicas)), [
            "bff-platform:services[ads-bff].replicas: is required when no hpa is set",
        ]);
        assert.match(
            problemsOf(editService(0, (s) => (s.replicas = 3)))[0],
            /services\[pc-web\]\.replicas: 3 conflicts with hpa: the autoscaler owns the replica count/,
        );
    });

    it("checks references between sections", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.routes[0].host = "tablet"))), [
            'bff-platform:services[pc-web].routes[0].host: "tablet" is not a name in hosts (known hosts: pc, sp)',
        ]);
        assert.deepEqual(problemsOf(editService(2, (s) => (s.name = "pc-web"))), [
            'bff-platform:services[2].name: "pc-web" is already the name of services[0]; names must be unique',
        ]);
        assert.deepEqual(problemsOf(editService(2, (s) => (s.routes = [{ host: "pc", pathPrefix: "/" }]))), [
            "bff-platform:services[sp-web].routes[0].pathPrefix: / on host pc is already routed to pc-web",
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
        assert.deepEqual(problemsOf(configMap), ["bff-platform:nodePools[worker].desiredSize: 40 is outside minSize..maxSize (6..30)"]);
    });

    it("checks the local limit against the HPA trigger and the pod performance limit (docs/design.md §5)", () => {
        const tooLow = problemsOf(editService(0, (s) => (s.rateLimit.local.requestsPerSecond = 8)));
        assert.deepEqual(tooLow, [
            "bff-platform:services[pc-web].rateLimit.local.requestsPerSecond: local limit 8 rps per pod is not above the HPA trigger of 8 rps per pod: requests would be rejected before the autoscaler adds pods",
        ]);
        const tooHigh = problemsOf(editService(0, (s) => (s.rateLimit.local.requestsPerSecond = 20)));
        assert.match(tooHigh[0], /local limit 20 rps per pod is not below the pod performance limit of 14 rps/);
    });

    it("requires exactly one of path and pathRegex on a global limit", () => {
        const configMap = editConfig(production(), "rateLimits", (limits) => {
            limits.global.limits[0].path = "/watch";
            return limits;
        });
        assert.deepEqual(problemsOf(configMap), ["bff-platform:rateLimits.global.limits[watch]: set exactly one of path and pathRegex"]);
    });
});

describe("service configuration (canary, routing, jobs)", () => {
    const ADS = 14;
    const ACCOUNT = 12;

    it("rejects canary weights outside 0..100, decreasing, or not ending at 100", () => {
        const withSteps = (steps: unknown[]) => editService(2, (s) => (s.canary = { steps }));
        assert.deepEqual(problemsOf(withSteps([{ setWeight: 120 }, { setWeight: 100 }])), [
            "bff-platform:services[sp-web].canary.steps[0].setWeight: 120 is out of range 0..100",
        ]);
        assert.deepEqual(problemsOf(withSteps([{ setWeight: 50 }, { pause: 60 }])), [
            "bff-platform:services[sp-web].canary.steps[0].setWeight: 50 is the last weight: the steps must end with setWeight 100, or the rollout never completes",
        ]);
        assert.deepEqual(problemsOf(withSteps([{ setWeight: 50 }, { setWeight: 20 }, { setWeight: 100 }])), [
            "bff-platform:services[sp-web].canary.steps[1].setWeight: 20 is below the weight of steps[0], 50: weights only grow",
        ]);
        assert.deepEqual(problemsOf(withSteps([{ setWeight: 50, pause: 10 }, { setWeight: 100 }])), [
            "bff-platform:services[sp-web].canary.steps[0]: set exactly one of setWeight and pause (got setWeight and pause)",
        ]);
    });

    it("rejects an HPA without a target", () => {
        assert.deepEqual(problemsOf(editService(2, (s) => delete s.hpa.targetCpuUtilization)), [
            "bff-platform:services[sp-web].hpa: has no target: set targetCpuUtilization (percent of the pod's requests) or external",
        ]);
    });

    it("rejects preview and mirror targets that are not services", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.previews[0].service = "pc-v3"))), [
            `bff-platform:services[pc-web].previews[0].service: "pc-v3" is not the name of a service (services: ${parseStackConfig(
                production(),
                "production",
            )
                .config.services.map((x) => x.name)
                .join(", ")})`,
        ]);
        assert.deepEqual(problemsOf(editService(2, (s) => (s.mirror = { service: "sp-web", percentage: 5 }))), [
            'bff-platform:services[sp-web].mirror.service: "sp-web" is this service itself',
        ]);
    });

    it("rejects two routes matching the same requests", () => {
        assert.deepEqual(problemsOf(editService(0, (s) => (s.previews[1] = { header: "preview", value: "v2", service: "pc-web-v2" }))), [
            "bff-platform:services[pc-web].previews[1]: matches the same requests (header preview=v2) as previews[0]: the second route would never be used",
        ]);
        assert.deepEqual(
            problemsOf(editService(0, (s) => (s.previews[0] = { header: "preview", query: "p", value: "v2", service: "pc-web-v2" }))),
            ["bff-platform:services[pc-web].previews[0]: set exactly one of header and query"],
        );
    });

    it("rejects a route on a host no gateway serves", () => {
        const configMap = editConfig(production(), "gateways", (gateways) => {
            gateways[0].hosts = ["pc"];
            return gateways;
        });
        const problems = problemsOf(configMap).filter((p) => p.includes(".routes["));
        assert.ok(problems.length > 0);
        for (const problem of problems) {
            assert.match(problem, /routes\[\d\]\.host: "sp" is served by no gateway: add it to a gateways\[\]\.hosts list$/);
        }
    });

    it("keeps a migrating service off canaries, whose weights Argo Rollouts owns", () => {
        assert.deepEqual(problemsOf(editService(ADS, (s) => delete s.strategy)), [
            `bff-platform:services[ads-bff].migration: needs strategy "rollingUpdate": Argo Rollouts owns the weights of the primary route during a canary, so a legacy share cannot sit beside them`,
        ]);
        assert.deepEqual(problemsOf(editService(ADS, (s) => (s.migration.legacyWeight = 101))), [
            `bff-platform:services[ads-bff].migration.legacyWeight: 101 is out of range 0..100`,
        ]);
    });

    it("checks Job and CronJob names against their limits", () => {
        const long = "j".repeat(45);
        assert.deepEqual(problemsOf(editService(ACCOUNT, (s) => (s.jobs[1].name = long))), [
            `bff-platform:services[account-web].jobs[1].name: the CronJob name "account-web-${long}" is 57 characters long, more than the limit of 52`,
        ]);
        assert.doesNotThrow(
            () =>
                parseStackConfig(
                    editService(ACCOUNT, (s) => (s.jobs[0].name = long)),
                    "production",
                ),
            "a Job name may be 63 long",
        );
        assert.match(
            problemsOf(editService(ACCOUNT, (s) => (s.jobs[1].schedule = "daily")))[0],
            /jobs\[purge-sessions\]\.schedule: "daily" has 1 field; a CronJob schedule has 5: minute hour day-of-month month day-of-week/,
        );
    });

    it("requires a pinned image tag", () => {
        assert.deepEqual(problemsOf(editService(2, (s) => delete s.version)), [
            "bff-platform:services[sp-web].version: is required (expected string)",
        ]);
        assert.deepEqual(problemsOf(editService(2, (s) => (s.version = "latest"))), [
            'bff-platform:services[sp-web].version: "latest" is not a version: pin the release you deploy',
        ]);
    });

    it("lets a deploy unit extend another service: settings inherited, identity and routes its own", () => {
        const services = parseStackConfig(production(), "production").config.services;
        const byName = (name: string) => services.find((s) => s.name === name)!;
        const [pc, sp] = [byName("pc-watch"), byName("sp-watch")];
        assert.equal(sp.image, pc.image);
        assert.deepEqual(sp.hpa, pc.hpa);
        assert.deepEqual(sp.rateLimit, pc.rateLimit);
        assert.deepEqual(sp.routes, [{ host: "sp", pathPrefix: "/watch" }]);
        const v2 = byName("pc-web-v2");
        assert.equal(v2.version, "3.0.0-beta.4");
        assert.deepEqual(v2.hpa, { minReplicas: 2, maxReplicas: 4, targetCpuUtilization: 80, scaleDownStabilizationSeconds: 300 });
        assert.deepEqual(v2.previews, [], "previews are not inherited");
        assert.deepEqual(v2.routes, []);
    });

    it("reports a problem inherited through extends once, at the service to change", () => {
        assert.deepEqual(problemsOf(editService(3, (s) => (s.resources.requests.cpu = "lots"))), [
            'bff-platform:services[pc-watch].resources.requests.cpu: "lots" is not a Kubernetes quantity (examples: 250m, 1, 1.5, 512Mi, 2Gi, 1G)',
        ]);
        assert.deepEqual(problemsOf(editService(4, (s) => (s.extends = "pc-wach"))), [
            'bff-platform:services[sp-watch].extends: "pc-wach" is not the name of a service',
        ]);
        const cycle = editConfig(production(), "services", (services) => {
            services[3].extends = "sp-watch";
            return services;
        });
        assert.match(problemsOf(cycle).join("\n"), /extends: .* the chain is a cycle/);
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

    it("reports which project keys are secrets after validation (provider keys are the providers')", () => {
        const { secretKeys } = parseStackConfig(production(), "production", { secretKeys: ["aws:secretKey"] });
        assert.deepEqual(secretKeys, []);
    });
});
