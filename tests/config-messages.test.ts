/**
 * The wording of a value out of its bounds, of a missing or mistyped section, and of keys outside
 * any namespace: each through parseStackConfig on an edited committed stack, as `pulumi preview`
 * would print it. The schema walk behind "allowed keys" and ranges (records, pipes, empty mappings)
 * through formatIssues with a schema of its own, for the shapes the stack schema does not use yet.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { formatIssues, parseStackConfig } from "../components/config";
import { configProblems, editConfig, stackFile } from "./support/program";

const dev = () => stackFile("dev").configMap;
/** The stack's configuration, accepted: parsing does not throw. */
const accepted = (configMap: Record<string, string>) => assert.ok(parseStackConfig(configMap, "dev").config);
const zones = (letters: string) => [...letters].map((letter) => `ap-northeast-1${letter}`);
const network = (availabilityZones: string[]) => ({
    ...dev(),
    "bff-platform:network": JSON.stringify({ create: true, cidr: "10.20.0.0/16", availabilityZones }),
});

describe("config values out of their bounds", () => {
    it("counts a list against both of its bounds, and adds the schema's reason", () => {
        assert.deepEqual(configProblems(network(zones("a"))), [
            "bff-platform:network.availabilityZones: must have at least 2 items, got 1 (must list at least two availability zones: EKS and load balancers need subnets in two)",
        ]);
        assert.deepEqual(configProblems(network(zones("abcdefg"))), [
            "bff-platform:network.availabilityZones: must have at most 6 items, got 7 (must list at most six availability zones)",
        ]);
        // Two zones are enough, with the cluster in the VPC the stack creates.
        accepted(
            editConfig(network(zones("ac")), "cluster", (cluster) => (delete cluster.vpcId, delete cluster.privateSubnetIds, cluster)),
        );
    });

    it("gives a short string's length and the length required", () => {
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:environmentOverride": JSON.stringify({ reason: "copied" }) }), [
            'bff-platform:environmentOverride.reason: "copied" is 6 characters long, shorter than the 10 required (must say why the stack name and environment differ)',
        ]);
    });

    it("names a bounded number's range below it, and a lower bound alone as the bound", () => {
        const steps = editConfig(dev(), "services", (services) => {
            services[0].canary = { steps: [{ setWeight: -1 }, { setWeight: 100 }] };
            return services;
        });
        assert.deepEqual(configProblems(steps), ["bff-platform:services[pc-web].canary.steps[0].setWeight: -1 is out of range 0..100"]);
        const replicas = editConfig(dev(), "rateLimits", (rateLimits) => ((rateLimits.global.replicas = 0), rateLimits));
        assert.deepEqual(configProblems(replicas), ["bff-platform:rateLimits.global.replicas: must be at least 1, got 0"]);
    });
});

describe("config sections missing, mistyped or misnamed", () => {
    it("lists an enum's values when the key is missing", () => {
        const withoutRuntime = editConfig(dev(), "services", (services) => (delete services[0].runtime, services));
        assert.deepEqual(configProblems(withoutRuntime), [
            'bff-platform:services[pc-web].runtime: is required; allowed values: "nodejs", "ruby", "scala", "php"',
        ]);
    });

    it("checks rateLimits' own keys before its limits, and says a mapping is expected with its article", () => {
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:rateLimits": JSON.stringify({ glob: {} }) }), [
            'bff-platform:rateLimits.glob: unknown key; did you mean "global"? allowed keys: global',
        ]);
        assert.deepEqual(configProblems({ ...dev(), "bff-platform:rateLimits": '"x"' }), [
            'bff-platform:rateLimits: must be an object, got string "x"',
        ]);
        // Without `global` there is no limit to check, and the rest of the stack is accepted.
        accepted({ ...dev(), "bff-platform:rateLimits": "{}" });
    });

    it("reads a key without namespace as the project's, as `pulumi config set` stores it", () => {
        const { "bff-platform:environment": environment, ...rest } = dev();
        accepted({ ...rest, environment });
        assert.deepEqual(configProblems({ ...dev(), region: "ap-northeast-1" }), [
            "bff-platform:region: unknown key; allowed keys: environment, environmentOverride, appNamespace, timeZone, cluster, nodePools, hosts, gateways, services, rateLimits, backends, delivery, staticAssets, ecr, schedule, cost, network, addons",
        ]);
    });
});

describe("config schema walk for allowed keys and ranges", () => {
    const schema = z.strictObject({
        byName: z.record(z.string(), z.strictObject({ weight: z.number().min(0).max(10) })),
        piped: z.strictObject({ b: z.number() }).transform((value) => value),
        code: z.string().max(3),
        count: z.number().max(5),
        none: z.strictObject({}),
    });
    const input = { byName: { a: { weight: 11, wieght: 1 } }, piped: { b: 1, extra: 2 }, code: "abcd", count: 6, none: { x: 1 } };
    const issues = () => {
        const result = schema.safeParse(input);
        assert.equal(result.success, false);
        return result.error.issues;
    };

    it("follows records and pipes to the keys and ranges below them", () => {
        assert.deepEqual(formatIssues(issues(), input, schema), [
            "bff-platform:byName.a.weight: 11 is out of range 0..10",
            'bff-platform:byName.a.wieght: unknown key; did you mean "weight"? allowed keys: weight',
            "bff-platform:piped.extra: unknown key; allowed keys: b",
            'bff-platform:code: "abcd" is 4 characters long, longer than the 3 allowed',
            "bff-platform:count: must be at most 5, got 6",
            "bff-platform:none.x: unknown key; this mapping takes no keys",
        ]);
    });

    it("names no keys and no range where the stack's schema has no such path", () => {
        assert.deepEqual(formatIssues(issues(), input).slice(0, 3), [
            "bff-platform:byName.a.weight: must be at most 10, got 11",
            "bff-platform:byName.a.wieght: unknown key; this mapping takes no keys",
            "bff-platform:piped.extra: unknown key; this mapping takes no keys",
        ]);
    });
});
