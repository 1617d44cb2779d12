import assert from "node:assert/strict";
import {
    assertName,
    canonicalJson,
    checkLocalLimit,
    checkName,
    checkQuantity,
    childName,
    contentHash,
    desiredReplicas,
    formatCpu,
    formatMemory,
    globalLimitCeiling,
    instanceCapacity,
    maxRpsWithoutScaleOut,
    parseCpuMillis,
    parseMemoryBytes,
    podCpuAtHpaTarget,
    recommendedLabels,
    selectorLabels,
} from "../components/shared";

describe("names", () => {
    it("accepts a DNS-1123 label of exactly 63 characters and rejects 64", () => {
        assert.equal(checkName("dns1123Label", "a".repeat(63)), undefined);
        assert.match(checkName("dns1123Label", "a".repeat(64)) ?? "", /64 characters long, more than the limit of 63/);
    });

    it("rejects upper case, underscores and leading or trailing dashes in labels", () => {
        for (const bad of ["PC-web", "pc_web", "-pc", "pc-", "pc.web", ""]) {
            assert.notEqual(checkName("dns1123Label", bad), undefined, bad);
        }
    });

    it("limits CronJob names to 52 characters, as the controller appends a suffix", () => {
        assert.equal(checkName("cronJob", "a".repeat(52)), undefined);
        assert.match(checkName("cronJob", "a".repeat(53)) ?? "", /limit of 52/);
    });

    it("allows dots in subdomains up to 253 characters", () => {
        assert.equal(checkName("dns1123Subdomain", "pc.example.com"), undefined);
        assert.equal(checkName("dns1123Subdomain", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`), undefined);
        assert.match(checkName("dns1123Subdomain", "a".repeat(254)) ?? "", /limit of 253/);
        assert.notEqual(checkName("dns1123Subdomain", "pc..example.com"), undefined);
    });

    it("accepts label values with upper case, dots and underscores, and the empty value", () => {
        assert.equal(checkName("labelValue", "2.15.0-rc.1"), undefined);
        assert.equal(checkName("labelValue", "Release_1"), undefined);
        assert.equal(checkName("labelValue", ""), undefined);
        assert.notEqual(checkName("labelValue", "v1+build"), undefined);
        assert.notEqual(checkName("labelValue", "x".repeat(64)), undefined);
    });

    it("throws at generation when a derived name grows past the limit", () => {
        assert.equal(childName("canary Service", "pc-web", "canary"), "pc-web-canary");
        assert.throws(() => childName("canary Service", "a".repeat(60), "canary"), /canary Service: .* more than the limit of 63/);
        assert.throws(() => assertName("dns1123Label", "Bad", "Service name"), /Service name: "Bad"/);
    });
});

describe("labels", () => {
    const identity = { name: "pc-web", version: "2.14.0", component: "bff", partOf: "frontend" };

    it("sets every recommended label plus app and version for Istio", () => {
        assert.deepEqual(recommendedLabels(identity), {
            app: "pc-web",
            "app.kubernetes.io/component": "bff",
            "app.kubernetes.io/instance": "pc-web",
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/name": "pc-web",
            "app.kubernetes.io/part-of": "frontend",
            "app.kubernetes.io/version": "2.14.0",
            version: "2.14.0",
        });
    });

    it("keeps selectors free of the version, so a version bump never touches an immutable selector", () => {
        const selector = selectorLabels(identity);
        assert.deepEqual(selector, { "app.kubernetes.io/name": "pc-web", "app.kubernetes.io/instance": "pc-web" });
        const labels = recommendedLabels(identity);
        for (const [key, value] of Object.entries(selector)) {
            assert.equal(labels[key], value, `pod label ${key} matches the selector`);
        }
    });

    it("rejects a label value Kubernetes would refuse", () => {
        assert.throws(() => recommendedLabels({ ...identity, version: "1.0.0+build.5" }), /label app.kubernetes.io\/version/);
    });
});

describe("content hash", () => {
    it("is the sha256 of canonical JSON, independent of key order", () => {
        assert.equal(contentHash({ b: 1, a: { d: 2, c: 3 } }), contentHash({ a: { c: 3, d: 2 }, b: 1 }));
        assert.equal(canonicalJson({ b: 1, a: [2, 1] }), '{"a":[2,1],"b":1}');
        assert.match(contentHash("x"), /^[0-9a-f]{64}$/);
        // sha256 of the JSON text "x" (three bytes, quotes included), computed with Python's hashlib.
        assert.equal(contentHash("x"), "ba2df4903a2c14e86dc3bcca58911b44ac1d2514b7227bf6eb08cfb978f55a1b");
    });

    it("changes when any value changes", () => {
        assert.notEqual(contentHash({ RELEASE_ENV: "dev" }), contentHash({ RELEASE_ENV: "qa" }));
    });
});

describe("quantities", () => {
    it("parses CPU exactly into millicores", () => {
        assert.equal(parseCpuMillis("500m"), 500);
        assert.equal(parseCpuMillis("1"), 1000);
        assert.equal(parseCpuMillis("0.1"), 100);
        assert.equal(parseCpuMillis("1.5"), 1500);
        assert.equal(parseCpuMillis("2e3"), 2_000_000);
        assert.equal(parseCpuMillis("1e-3"), 1);
        // An exponent and a suffix together is not a quantity.
        assert.notEqual(checkQuantity("2e3m"), undefined);
        // Kubernetes rounds CPU up to the millicore.
        assert.equal(parseCpuMillis("100u"), 1);
    });

    it("parses memory into bytes with binary and decimal suffixes", () => {
        assert.equal(parseMemoryBytes("128Mi"), 128 * 2 ** 20);
        assert.equal(parseMemoryBytes("1Gi"), 2 ** 30);
        assert.equal(parseMemoryBytes("1G"), 1e9);
        assert.equal(parseMemoryBytes("1.5Gi"), 1.5 * 2 ** 30);
        assert.equal(parseMemoryBytes("512"), 512);
    });

    it("sums without floating-point drift", () => {
        const total = ["0.1", "0.2", "100m"].map(parseCpuMillis).reduce((a, b) => a + b, 0);
        assert.equal(total, 400);
    });

    it("formats canonical quantities", () => {
        assert.equal(formatCpu(2000), "2");
        assert.equal(formatCpu(1500), "1500m");
        assert.equal(formatMemory(1536 * 2 ** 20), "1536Mi");
        assert.equal(formatMemory(2 * 2 ** 30), "2Gi");
        assert.equal(formatMemory(1000), "1000");
    });

    it("rejects what is not a quantity, with examples", () => {
        for (const bad of ["lots", "1 Gi", "1gb", "", "m"]) {
            assert.match(checkQuantity(bad) ?? "", /is not a Kubernetes quantity \(examples:/, bad);
        }
        assert.throws(() => parseCpuMillis("lots"), /not a Kubernetes quantity/);
    });
});

describe("capacity formulas (docs/design.md §5)", () => {
    it("max rps without scale-out = total requests.cpu / per-pod requests.cpu × trigger rps", () => {
        // 20 pods of 600m (app 500m + istio-proxy 100m) at 8 rps each when the HPA triggers.
        assert.equal(maxRpsWithoutScaleOut({ totalCpuMillis: 12000, perPodCpuMillis: 600, triggerRpsPerPod: 8 }), 160);
        // A partial pod does not count.
        assert.equal(maxRpsWithoutScaleOut({ totalCpuMillis: 12500, perPodCpuMillis: 600, triggerRpsPerPod: 8 }), 160);
        assert.throws(() => maxRpsWithoutScaleOut({ totalCpuMillis: 1, perPodCpuMillis: 0, triggerRpsPerPod: 1 }), RangeError);
    });

    it("caps the global limit at the smaller of BFF and backend capacity", () => {
        assert.equal(globalLimitCeiling(800, 450), 450);
        assert.equal(globalLimitCeiling(300, 450), 300);
        assert.equal(globalLimitCeiling(300), 300);
    });

    it("requires the local limit between the HPA trigger and the pod performance limit", () => {
        assert.deepEqual(checkLocalLimit({ localRps: 10, triggerRps: 8, performanceRps: 14 }), []);
        assert.match(checkLocalLimit({ localRps: 8, triggerRps: 8, performanceRps: 14 })[0], /not above the HPA trigger of 8 rps/);
        assert.match(
            checkLocalLimit({ localRps: 14, triggerRps: 8, performanceRps: 14 })[0],
            /not below the pod performance limit of 14 rps/,
        );
    });

    it("counts sidecar requests in the HPA utilization basis", () => {
        // 500m app + 100m istio-proxy at 80%: the pod scales out at 480m of usage, not 400m.
        assert.equal(podCpuAtHpaTarget(600, 80), 480);
        assert.equal(desiredReplicas(10, 120, 80), 15);
    });

    it("knows the vCPU and memory of c, m and r instance types", () => {
        assert.deepEqual(instanceCapacity("c6i.4xlarge"), { cpuMillis: 16000, memoryBytes: 32 * 2 ** 30 });
        assert.deepEqual(instanceCapacity("m6i.large"), { cpuMillis: 2000, memoryBytes: 8 * 2 ** 30 });
        assert.deepEqual(instanceCapacity("r7g.xlarge"), { cpuMillis: 4000, memoryBytes: 32 * 2 ** 30 });
        assert.equal(instanceCapacity("t3.medium"), undefined);
    });
});
